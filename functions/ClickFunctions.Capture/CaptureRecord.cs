namespace ClickFunctions.Capture;

/// <summary>One decoded Capture record.</summary>
public sealed record CaptureRecord(
    long SequenceNumber,
    string Offset,
    DateTimeOffset EnqueuedTimeUtc,
    IReadOnlyDictionary<string, object?> SystemProperties,
    IReadOnlyDictionary<string, object?> Properties,
    byte[]? Body);
