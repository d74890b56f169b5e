using System.Net;

namespace ClickFunctions.Clicks;

/// <summary>
/// What the host tells the core about an incoming click request (headers already read, nothing stored yet). The
/// client hints are the raw <c>Sec-CH-UA-Mobile</c>, <c>Sec-CH-UA-Platform</c> and <c>Sec-CH-UA</c> headers
/// (Chromium sends these three low-entropy hints on every secure request without being asked).
/// </summary>
public sealed record ClickRequest(
    string Method,
    string? UserAgent,
    string? Referer,
    IPAddress? RemoteIp,
    string? Purpose,
    string? ChUaMobile = null,
    string? ChUaPlatform = null,
    string? ChUa = null);
