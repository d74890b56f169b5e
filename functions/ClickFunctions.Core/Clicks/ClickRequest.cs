using System.Net;

namespace ClickFunctions.Clicks;

/// <summary>What the host tells the core about an incoming click request (headers already read, nothing stored yet).</summary>
public sealed record ClickRequest(
    string Method,
    string? UserAgent,
    string? Referer,
    IPAddress? RemoteIp,
    string? Purpose);
