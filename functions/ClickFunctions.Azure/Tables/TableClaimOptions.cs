using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.Tables;

/// <summary>Section <c>Claims</c>: the Table Storage account holding click-id claims for dedup.</summary>
public sealed class TableClaimOptions
{
    public const string Section = "Claims";

    /// <summary>e.g. <c>https://stclicks.table.core.windows.net</c>; authentication is by identity.</summary>
    [Required]
    public Uri? TableServiceUri { get; set; }

    /// <summary>Claims tables are named <c>{TablePrefix}yyyyMMdd</c>; dropping a day's table expires its claims.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,40}$")]
    public string TablePrefix { get; set; } = "claims";

    /// <summary>
    /// Hex digits of the click id used as partition key: 1 = 16 partitions, 2 = 256. Fewer partitions fill batch
    /// transactions better; more spread the load (a partition serves about 2,000 entities/s).
    /// </summary>
    [Range(1, 4)]
    public int PartitionKeyDigits { get; set; } = 1;

    /// <summary>How far back a click id is still a duplicate; earlier days' tables within it are checked too.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan DedupHorizon { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Attempts for a transaction answered 500/503 or timing out (the SDK's own retries come first).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);
}
