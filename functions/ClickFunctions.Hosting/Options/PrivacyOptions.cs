using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Hosting.Options;

/// <summary>Section <c>Privacy</c>: the master secret from which the daily fingerprint keys derive.</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>Base64, at least 16 bytes. Rotating it makes all earlier fingerprints unlinkable.</summary>
    [Required]
    public string FingerprintSecret { get; set; } = "";
}

/// <summary>Section <c>Clicks</c>.</summary>
public sealed class ClicksOptions
{
    public const string Section = "Clicks";

    /// <summary>If set, the click id is appended to the landing URL under this parameter (e.g. <c>cf_click</c>).</summary>
    [RegularExpression("^[A-Za-z0-9._~-]{1,64}$", ErrorMessage = "Clicks:ClickIdParameter must be 1-64 characters of A-Z a-z 0-9 . _ ~ -")]
    public string? ClickIdParameter { get; set; }
}
