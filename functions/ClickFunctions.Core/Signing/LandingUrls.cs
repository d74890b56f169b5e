namespace ClickFunctions.Signing;

/// <summary>
/// The only destinations a click may redirect to: absolute http(s) URLs with a host, written out in full
/// (<c>scheme://</c>), printable ASCII only (IDN hosts as punycode, other characters percent-encoded), no user
/// info, no backslash, at most <see cref="MaxLength"/> characters. Checked when signing and again when verifying,
/// so a <c>Location</c> header is always exactly a string that passed here.
/// </summary>
public static class LandingUrls
{
    public const int MaxLength = 2048;

    public static string? Validate(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "landing URL is missing";
        }
        if (url.Length > MaxLength)
        {
            return $"landing URL is longer than {MaxLength} characters";
        }
        foreach (char c in url)
        {
            // Controls (CR/LF header injection), spaces, non-ASCII and backslashes (browsers read "\" as "/").
            if (c <= ' ' || c >= '\u007f' || c == '\\')
            {
                return "landing URL may contain printable ASCII only, without spaces or backslashes";
            }
        }
        bool http = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
        bool https = url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (!http && !https)
        {
            return "landing URL must start with http:// or https://";
        }
        var rest = url.AsSpan(http ? "http://".Length : "https://".Length);
        int end = rest.IndexOfAny('/', '?', '#');
        var authority = end < 0 ? rest : rest[..end];
        if (authority.IsEmpty)
        {
            return "landing URL has no host";
        }
        if (authority.Contains('@'))
        {
            return "landing URL must not contain user info (user@host)";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.UserInfo.Length > 0)
        {
            return "landing URL is not a valid absolute URL";
        }
        return null;
    }
}
