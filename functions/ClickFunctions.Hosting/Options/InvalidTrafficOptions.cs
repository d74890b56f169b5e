using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Hosting.Options;

/// <summary>Section <c>Geo</c>: where the click host finds its country database (docs/configuration.md).</summary>
public sealed class GeoOptions
{
    public const string Section = "Geo";

    /// <summary>
    /// Path to a MaxMind-format (.mmdb) Country or City database (GeoLite2-Country, GeoIP2-Country, …). Unset: every
    /// click's country is <c>unknown</c>. Read once at start; a path that does not exist fails the start.
    /// </summary>
    public string? CountryDatabase { get; set; }
}

/// <summary>Section <c>InvalidTraffic</c>: detection beyond the user agent (issue 14).</summary>
public sealed class InvalidTrafficOptions
{
    public const string Section = "InvalidTraffic";

    /// <summary>CIDR ranges of data centres (e.g. <c>203.0.113.0/24</c>, <c>2001:db8::/32</c>); a click from inside is <c>data_centre</c>.</summary>
    public List<string> DataCentreRanges { get; } = [];

    /// <summary>
    /// Click flooding: the most valid clicks one fingerprint may make on one ad within one <see cref="FloodWindow"/>;
    /// the clicks past it count as <c>click_flooding</c>. Unset (the default): no flood detection.
    /// </summary>
    [Range(1, 1000)]
    public int? FloodClicks { get; set; }

    /// <summary>The flood window, whole minutes aligned to the Unix epoch (default one hour); at most the dedup horizon.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan FloodWindow { get; set; } = TimeSpan.FromHours(1);
}
