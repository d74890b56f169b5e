namespace ClickFunctions.Ports;

/// <summary>
/// One raw event as the log holds it: an Event Hubs Capture record (Capture blob or local log segment) or an
/// event delivered by the Event Hubs trigger. <see cref="Body"/> is a click in <c>ClickWireFormat</c>.
/// </summary>
public sealed record RawEvent(string Partition, long SequenceNumber, DateTimeOffset EnqueuedTime, ReadOnlyMemory<byte> Body);
