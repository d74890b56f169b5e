using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.Tables;

/// <summary>Section <c>Claims</c>: the Table Storage account holding click-id claims for dedup.</summary>
public sealed class TableClaimOptions : IValidatableObject
{
    public const string Section = "Claims";

    /// <summary>e.g. <c>https://stclicks.table.core.windows.net</c>; authentication is by identity.</summary>
    [Required]
    public Uri? TableServiceUri { get; set; }

    /// <summary>
    /// Claims tables are named <c>{TablePrefix}yyyyMMddHH</c> after the start of the span of click time they cover;
    /// dropping a span's table expires its claims.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,40}$")]
    public string TablePrefix { get; set; } = "claims";

    /// <summary>
    /// Hex digits of the click id used as partition key: 1 = 16 partitions, 2 = 256. The click id is a hash, so load
    /// is even over partitions whatever the ads' skew. Fewer partitions fill batch transactions better; more spread
    /// the load (a partition is targeted at 2,000 entities/s, an account at 20,000: see docs/decisions/060).
    /// </summary>
    [Range(1, 4)]
    public int PartitionKeyDigits { get; set; } = 1;

    /// <summary>How long a claim lasts from its click's timestamp (set from <c>Dedup:Horizon</c>, one setting for both hosts).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan DedupHorizon { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The span of click time one table covers (whole hours). A claim is written to the table of its click's span and,
    /// when its horizon reaches into the next span, to that one too, so that any later click finds it in the one table
    /// of its own span. Longer spans mean fewer second writes (horizon / span of claims need one) but tables that live
    /// longer. Default 2 days: 1.5 entity writes per claim with a 24-hour horizon.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan TableSpan { get; set; } = TimeSpan.FromDays(2);

    /// <summary>
    /// How much earlier than a claimed click a repeat may still be processed after it (events of one click id taken
    /// out of time order, e.g. from two front-end instances): claims this close to the start of their span are also
    /// written to the previous span's table.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReorderTolerance { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long after its span ends a table is kept before the store drops it. At least the hub's message retention
    /// (infra: <c>eventHubRetentionDays</c>, 3 days), so an event redelivered from the hub still finds its claim.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan RetainAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Attempts for a request answered 500/503 or timing out (the SDK's own retries come first).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TableSpan.Ticks % TimeSpan.TicksPerHour != 0)
        {
            yield return new ValidationResult("Claims:TableSpan must be whole hours (tables are named by the hour their span starts).", [nameof(TableSpan)]);
        }
    }
}
