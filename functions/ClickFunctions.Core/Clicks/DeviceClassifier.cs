namespace ClickFunctions.Clicks;

/// <summary>What a request says about the browser: the user agent and the User-Agent Client Hints, if sent.</summary>
/// <param name="UserAgent">The <c>User-Agent</c> header.</param>
/// <param name="Mobile"><c>Sec-CH-UA-Mobile</c>: <c>?1</c> or <c>?0</c> (RFC 8941 boolean).</param>
/// <param name="Platform"><c>Sec-CH-UA-Platform</c>: a quoted string such as <c>"Windows"</c>.</param>
/// <param name="Brands"><c>Sec-CH-UA</c>: a list of quoted brands with versions.</param>
public readonly record struct BrowserSignals(string? UserAgent, string? Mobile = null, string? Platform = null, string? Brands = null);

/// <summary>
/// Device, operating system and browser of a click (codes of <see cref="ClickDimensions"/>). Client hints, where a
/// Chromium browser sends them, win over the user agent (whose platform and model parts Chromium freezes, "User-Agent
/// Reduction"); Safari and Firefox send none, so their user agent decides. Known crawlers are <c>other</c> on all
/// three: a crawler's user agent imitates a device it is not.
/// </summary>
public static class DeviceClassifier
{
    public static (string Device, string Os, string Browser) Classify(in BrowserSignals signals, bool isCrawler = false)
    {
        if (isCrawler)
        {
            return (ClickDimensions.Other, ClickDimensions.Other, ClickDimensions.Other);
        }
        var ua = (signals.UserAgent ?? "").AsSpan();
        string os = PlatformHint(signals.Platform) ?? OsFromAgent(ua);
        string browser = BrowserFromBrands(signals.Brands) ?? BrowserFromAgent(ua);
        string device = DeviceOf(ua, os, MobileHint(signals.Mobile));
        return (device, os, browser);
    }

    private static bool Has(ReadOnlySpan<char> ua, string token) => ua.Contains(token, StringComparison.Ordinal);

    private static string OsFromAgent(ReadOnlySpan<char> ua)
    {
        // Order matters: iOS agents say "like Mac OS X", Android agents say "Linux".
        if (Has(ua, "iPhone") || Has(ua, "iPad") || Has(ua, "iPod"))
        {
            return "ios";
        }
        if (Has(ua, "Android"))
        {
            return "android";
        }
        if (Has(ua, "CrOS"))
        {
            return "chromeos";
        }
        if (Has(ua, "Windows Phone"))
        {
            return ClickDimensions.Other;
        }
        if (Has(ua, "Windows"))
        {
            return "windows";
        }
        if (Has(ua, "Macintosh") || Has(ua, "Mac OS X"))
        {
            return "macos";
        }
        if (Has(ua, "Linux") || Has(ua, "X11"))
        {
            return "linux";
        }
        return ClickDimensions.Other;
    }

    private static string BrowserFromAgent(ReadOnlySpan<char> ua)
    {
        // Order matters: Chromium-based browsers also say "Chrome/" and "Safari/"; Chrome says "Safari/".
        if (Has(ua, "SamsungBrowser/"))
        {
            return "samsung";
        }
        if (Has(ua, "OPR/") || Has(ua, "Opera") || Has(ua, "OPT/") || Has(ua, "OPiOS/"))
        {
            return "opera";
        }
        if (Has(ua, "Edg/") || Has(ua, "EdgA/") || Has(ua, "EdgiOS/") || Has(ua, "Edge/"))
        {
            return "edge";
        }
        if (Has(ua, "Firefox/") || Has(ua, "FxiOS/"))
        {
            return "firefox";
        }
        if (Has(ua, "CriOS/") || Has(ua, "Chrome/"))
        {
            return "chrome";
        }
        if (Has(ua, "Safari/") && Has(ua, "Version/"))
        {
            return "safari";
        }
        return ClickDimensions.Other;
    }

    private static string DeviceOf(ReadOnlySpan<char> ua, string os, bool? mobileHint)
    {
        if (Has(ua, "iPad") || Has(ua, "Tablet"))
        {
            return "tablet";
        }
        if (mobileHint == true)
        {
            return "mobile";
        }
        switch (os)
        {
            case "ios":
                return "mobile"; // iPhone, iPod (iPad above)
            case "android":
                // Android phones' browsers say "Mobile"; tablets' do not (and send Sec-CH-UA-Mobile: ?0).
                return Has(ua, "Mobile") ? "mobile" : "tablet";
            case "windows" or "macos" or "linux" or "chromeos":
                return "desktop";
        }
        return Has(ua, "Mobi") ? "mobile" : ClickDimensions.Other;
    }

    private static bool? MobileHint(string? value) => value?.Trim() switch
    {
        "?1" => true,
        "?0" => false,
        _ => null,
    };

    private static string? PlatformHint(string? value)
    {
        if (value is null)
        {
            return null;
        }
        return value.Trim().Trim('"') switch
        {
            "Windows" => "windows",
            "macOS" => "macos",
            "iOS" => "ios",
            "Android" => "android",
            "Linux" => "linux",
            "Chrome OS" or "Chromium OS" => "chromeos",
            "" => null,
            _ => ClickDimensions.Other,
        };
    }

    private static string? BrowserFromBrands(string? brands)
    {
        if (string.IsNullOrWhiteSpace(brands))
        {
            return null;
        }
        // Sec-CH-UA is a structured-field list of quoted brands ('"Google Chrome";v="124", "Chromium";v="124",
        // "Not-A.Brand";v="99"'); the GREASE brand is noise. The specific brand wins over "Chromium".
        var list = brands.AsSpan();
        if (list.Contains("\"Microsoft Edge\"", StringComparison.Ordinal))
        {
            return "edge";
        }
        if (list.Contains("\"Opera\"", StringComparison.Ordinal) || list.Contains("\"Opera GX\"", StringComparison.Ordinal))
        {
            return "opera";
        }
        if (list.Contains("\"Samsung Internet\"", StringComparison.Ordinal))
        {
            return "samsung";
        }
        if (list.Contains("\"Google Chrome\"", StringComparison.Ordinal))
        {
            return "chrome";
        }
        // Chromium-only or another Chromium browser: let the user agent decide.
        return null;
    }
}
