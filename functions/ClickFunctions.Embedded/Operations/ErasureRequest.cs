using System.Globalization;
using System.Text.Json.Serialization;
using ClickFunctions.Clicks;

namespace ClickFunctions.Embedded.Operations;

/// <summary>What to erase: every click of one click id, or every click whose time falls in [From, To).</summary>
public sealed record ErasureRequest(string? ClickId, DateTimeOffset? From, DateTimeOffset? To)
{
    public static ErasureRequest ForClickId(ClickId id) => new(id.ToString(), null, null);

    public static ErasureRequest ForRange(DateTimeOffset from, DateTimeOffset to) => new(null, from, to);

    public bool Matches(ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        return ClickId is not null
            ? string.Equals(click.ClickId.ToString(), ClickId, StringComparison.Ordinal)
            : click.Timestamp >= From && click.Timestamp < To;
    }

    public string Describe() => ClickId is not null
        ? $"click id {ClickId}"
        : string.Create(CultureInfo.InvariantCulture, $"clicks in [{From:O}, {To:O})");
}

/// <summary>One log record erased: where it was and what it counted as (no fingerprint, no IP).</summary>
public sealed record ErasedRecord(int Partition, long Sequence, DateTimeOffset ClickTime, string AdvertiserId, string AdId, string Reason);

/// <summary>A window reconciled after the log was rewritten, and how it ended.</summary>
public sealed record ErasureWindow(DateTimeOffset From, DateTimeOffset To, string? Status = null, long ClickDifference = 0, long InvalidDifference = 0, string? Message = null);

/// <summary>
/// The erasure journal and report: written before the log is touched (the windows to recount), kept while the erasure
/// is incomplete, and finally written as the report of what was removed.
/// </summary>
public sealed record ErasureReport
{
    public required ErasureRequest Request { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Records replaced by tombstones (empty bodies at their sequence numbers), over all runs of this erasure.</summary>
    public List<ErasedRecord> Records { get; init; } = [];

    public List<string> SegmentsRewritten { get; init; } = [];

    public long ClaimsDeleted { get; init; }

    public List<ErasureWindow> Windows { get; init; } = [];

    public string? Message { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErasureReport))]
public sealed partial class ErasureJson : JsonSerializerContext;
