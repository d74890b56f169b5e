namespace ClickFunctions.Clicks;

/// <summary>
/// What a click is broken down by (issue 14), decided at capture before the IP is truncated and carried in wire
/// format version 2 (docs/wire-format.md). Values are lower-case codes except <see cref="Country"/> (ISO 3166-1
/// alpha-2, upper case, or <c>unknown</c>) and the four signed URL fields, which are kept as signed ("" when absent).
/// </summary>
/// <param name="Country">ISO 3166-1 alpha-2 (<c>DE</c>) from the configured MaxMind-format database, else <c>unknown</c>.</param>
/// <param name="Device"><c>desktop</c>, <c>mobile</c>, <c>tablet</c> or <c>other</c>.</param>
/// <param name="Os"><c>windows</c>, <c>macos</c>, <c>ios</c>, <c>android</c>, <c>linux</c>, <c>chromeos</c> or <c>other</c>.</param>
/// <param name="Browser"><c>chrome</c>, <c>safari</c>, <c>firefox</c>, <c>edge</c>, <c>samsung</c>, <c>opera</c> or <c>other</c>.</param>
/// <param name="Publisher">Signed URL field <c>pub</c>, "" when absent.</param>
/// <param name="Placement">Signed URL field <c>plc</c>, "" when absent.</param>
/// <param name="Creative">Signed URL field <c>crv</c>, "" when absent.</param>
/// <param name="SubId">Signed URL field <c>sub</c>, "" when absent.</param>
public sealed record ClickDimensions(
    string Country,
    string Device,
    string Os,
    string Browser,
    string Publisher,
    string Placement,
    string Creative,
    string SubId)
{
    public const string UnknownCountry = "unknown";
    public const string Other = "other";

    /// <summary>What a click has when nothing is known: every version-1 event decodes with this.</summary>
    public static ClickDimensions Unknown { get; } = new(UnknownCountry, Other, Other, Other, "", "", "", "");

    /// <summary>Device codes; the index is the byte in wire format version 2 (append only).</summary>
    public static readonly IReadOnlyList<string> Devices = [Other, "desktop", "mobile", "tablet"];

    /// <summary>Operating system codes; the index is the byte in wire format version 2 (append only).</summary>
    public static readonly IReadOnlyList<string> OperatingSystems = [Other, "windows", "macos", "ios", "android", "linux", "chromeos"];

    /// <summary>Browser codes; the index is the byte in wire format version 2 (append only).</summary>
    public static readonly IReadOnlyList<string> Browsers = [Other, "chrome", "safari", "firefox", "edge", "samsung", "opera"];

    /// <summary>True for <c>unknown</c> or two ASCII upper-case letters.</summary>
    public static bool IsValidCountry(string? country) =>
        country == UnknownCountry || country is [>= 'A' and <= 'Z', >= 'A' and <= 'Z'];
}
