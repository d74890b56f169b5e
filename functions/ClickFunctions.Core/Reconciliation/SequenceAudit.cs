using ClickFunctions.Ports;

namespace ClickFunctions.Reconciliation;

/// <summary>Sequence numbers missing from the raw files of one partition: [<see cref="FirstMissing"/>, <see cref="LastMissing"/>], noticed at <see cref="File"/>.</summary>
public sealed record SequenceGap(string Partition, long FirstMissing, long LastMissing, string File)
{
    public long Missing => LastMissing - FirstMissing + 1;
}

/// <summary>What was read of one partition: its first and last sequence numbers and how many distinct events.</summary>
public sealed record PartitionRange(string Partition, long FirstSequence, long LastSequence, long Events);

/// <summary>
/// Checks that each partition's sequence numbers are contiguous across the files read: within a file, from one file
/// to the next, and from a file's name (local segments are named by their first sequence) to its first event. An
/// event read twice (overlapping files) is passed on once.
/// </summary>
public sealed class SequenceAudit
{
    private readonly Dictionary<string, State> _partitions = new(StringComparer.Ordinal);
    private readonly List<SequenceGap> _gaps = [];

    public IReadOnlyList<SequenceGap> Gaps => _gaps;

    public IReadOnlyList<PartitionRange> Ranges =>
        [.. _partitions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new PartitionRange(p.Key, p.Value.First, p.Value.Last, p.Value.Events))];

    /// <summary>The sequence number after the last one read, per partition.</summary>
    public IReadOnlyDictionary<string, long> NextSequences => _partitions.ToDictionary(p => p.Key, p => p.Value.Last + 1, StringComparer.Ordinal);

    /// <summary>Audits <paramref name="file"/> and appends its events not seen before to <paramref name="into"/>.</summary>
    public void Accept(RawEventFile file, List<RawEvent> into)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(into);
        _partitions.TryGetValue(file.Partition, out var state);
        if (state is not null && file.ExpectedFirstSequence is { } named && named > state.Last + 1)
        {
            // A whole file is missing between the last one read and this one.
            _gaps.Add(new SequenceGap(file.Partition, state.Last + 1, named - 1, file.Name));
            state.Last = named - 1;
        }
        foreach (var raw in file.Events)
        {
            if (!string.Equals(raw.Partition, file.Partition, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Raw file {file.Name} of partition {file.Partition} holds an event of partition {raw.Partition}.");
            }
            long sequence = raw.SequenceNumber;
            if (state is null)
            {
                if (file.ExpectedFirstSequence is { } first && sequence > first)
                {
                    _gaps.Add(new SequenceGap(file.Partition, first, sequence - 1, file.Name));
                }
                state = new State { First = sequence, Last = sequence - 1 };
                _partitions.Add(file.Partition, state);
            }
            if (sequence <= state.Last)
            {
                continue;
            }
            if (sequence > state.Last + 1)
            {
                _gaps.Add(new SequenceGap(file.Partition, state.Last + 1, sequence - 1, file.Name));
            }
            state.Last = sequence;
            state.Events++;
            into.Add(raw);
        }
    }

    private sealed class State
    {
        public long First { get; set; }

        public long Last { get; set; }

        public long Events { get; set; }
    }
}
