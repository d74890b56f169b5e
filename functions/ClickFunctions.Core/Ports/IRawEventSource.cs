namespace ClickFunctions.Ports;

/// <summary>
/// One file of raw events (a Capture blob, or a local log segment) of one partition, in sequence order.
/// <see cref="ExpectedFirstSequence"/> is the sequence number the file must start at when its name says so (local log
/// segments are named by their first sequence number; Capture blobs are named by time, so <see langword="null"/>).
/// </summary>
public sealed record RawEventFile(string Partition, string Name, long? ExpectedFirstSequence, IReadOnlyList<RawEvent> Events);

/// <summary>
/// The raw log for reconciliation: Event Hubs Capture blobs in Azure, the local log's segments in the embedded shape,
/// both read with the one Capture reader (docs/architecture.md, invariant 7).
/// </summary>
public interface IRawEventSource
{
    /// <summary>
    /// Files holding every event enqueued in [<paramref name="enqueuedFrom"/>, <paramref name="enqueuedTo"/>) (more is
    /// fine: the reconciler filters by click time). Each partition's files come in sequence order; partitions may
    /// interleave. A file that exists but cannot be read throws <see cref="InvalidDataException"/>; a file that is
    /// missing is not an error here: the reconciler's sequence audit reports the hole.
    /// </summary>
    IAsyncEnumerable<RawEventFile> ReadAsync(DateTimeOffset enqueuedFrom, DateTimeOffset enqueuedTo, CancellationToken cancellationToken);
}
