using System.Text.Json.Serialization;

namespace ClickFunctions.Reconciliation;

[JsonConverter(typeof(JsonStringEnumConverter<ReconcileStatus>))]
public enum ReconcileStatus
{
    /// <summary>The store already equalled the recount: nothing written.</summary>
    Matched,
    /// <summary>Corrections were written; the store now equals the recount.</summary>
    Corrected,
    /// <summary>The window is not closed yet (raw files may still be incomplete): nothing read, nothing written.</summary>
    WindowOpen,
    /// <summary>Sequence numbers are missing from the raw files: recounting would count less than happened, so nothing written.</summary>
    Gaps,
    /// <summary>The store has not yet counted every event of the window (its consumer is behind): nothing written; retry later.</summary>
    Unsettled,
    /// <summary>A raw file could not be read: nothing written.</summary>
    Unreadable,
    /// <summary>The window reaches before what retention kept (the raw log or the minute buckets): refused with its reason, nothing read or written.</summary>
    NotRetained,
}

/// <summary>One corrected bucket, for the report (the first <see cref="ReconcileReport.MaxListedCorrections"/> only).</summary>
public sealed record CorrectionSummary(
    string AdvertiserId,
    string CampaignId,
    string AdId,
    DateTimeOffset Minute,
    long StoredClicks,
    long RecountedClicks,
    long StoredInvalidClicks,
    long RecountedInvalidClicks);

/// <summary>What one reconciliation run did; written as JSON to the data directory (locally) or Blob Storage (Azure).</summary>
public sealed record ReconcileReport
{
    public const int MaxListedCorrections = 100;

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    public required ReconcileStatus Status { get; init; }

    /// <summary>Why the run did not correct, or a short summary.</summary>
    public string? Message { get; init; }

    /// <summary>The enqueued-time range of raw events read: the window, the dedup lookback before it, the allowed lateness after it.</summary>
    public DateTimeOffset ReadFrom { get; init; }

    public DateTimeOffset ReadTo { get; init; }

    public long EventsRead { get; init; }

    public long EventsInWindow { get; init; }

    public long MalformedEvents { get; init; }

    public int KeysCompared { get; init; }

    public int KeysCorrected { get; init; }

    /// <summary>Sharded stores (ADX): shards whose totals were compared, and shards whose per-ad rows had to be read.</summary>
    public int ShardsCompared { get; init; }

    public int ShardsRead { get; init; }

    /// <summary>The most rows any one read of the store returned (ADX truncates a result at 500,000 records).</summary>
    public long MaxRowsPerRead { get; init; }

    /// <summary>Sum over buckets of |recounted − stored| valid clicks.</summary>
    public long AbsoluteClickDifference { get; init; }

    /// <summary>Sum over buckets of |recounted − stored| invalid clicks (all reasons).</summary>
    public long AbsoluteInvalidClickDifference { get; init; }

    public IReadOnlyList<SequenceGap> Gaps { get; init; } = [];

    public IReadOnlyList<PartitionRange> Partitions { get; init; } = [];

    public IReadOnlyList<CorrectionSummary> Corrections { get; init; } = [];

    public double DurationMs { get; init; }

    /// <summary>This report with what a recount read: events, malformed events, gaps and partition ranges.</summary>
    public ReconcileReport WithRecount(RecountResult recount)
    {
        ArgumentNullException.ThrowIfNull(recount);
        return this with
        {
            EventsRead = recount.EventsRead,
            EventsInWindow = recount.EventsInWindow,
            MalformedEvents = recount.Malformed,
            Gaps = recount.Gaps,
            Partitions = recount.Partitions,
        };
    }

    /// <summary>Whether the store equals the recount after this run.</summary>
    [JsonIgnore]
    public bool Succeeded => Status is ReconcileStatus.Matched or ReconcileStatus.Corrected;

    /// <summary>The one-line summary hosts log.</summary>
    public string Summary() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"reconcile [{From:O}, {To:O}) {Status}: {EventsRead} events read ({EventsInWindow} in window), {KeysCompared} keys compared, {KeysCorrected} corrected, |Δclicks| {AbsoluteClickDifference}, |Δinvalid| {AbsoluteInvalidClickDifference}, {Gaps.Count} gaps, {DurationMs:F0} ms{(Message is null ? "" : ": " + Message)}");
}

[JsonSerializable(typeof(ReconcileReport))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
public sealed partial class ReconcileJson : JsonSerializerContext;
