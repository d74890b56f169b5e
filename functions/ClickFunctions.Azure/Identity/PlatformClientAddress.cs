using System.Net;
using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace ClickFunctions.Azure.Identity;

/// <summary>
/// The click's client address behind the Azure Functions / App Service front end. There the connection's peer is the
/// front end (and, in the isolated worker, the Functions host on the same instance), never the user, so every click
/// without an impression id would share one address and collapse into false duplicates (issue 11, finding 5).
/// <para>
/// The front end appends the address it received the connection from to <c>X-Forwarded-For</c> (as
/// <c>address:port</c>). Entries to the left of it are whatever the client sent and prove nothing: "In a chain of
/// proxy servers, the first parameter indicates the client where the request was first made. Subsequent proxy
/// identifiers follow" and each proxy appends (Microsoft Learn, "Configure ASP.NET Core to work with proxy servers
/// and load balancers"). So the address is the right-most entry after skipping the loopback hops added inside the
/// instance (host to worker): a client cannot write to the right of what the front end appends.
/// </para>
/// <para>
/// The header is read only when the app runs on the platform, which sets <c>WEBSITE_SITE_NAME</c> on every instance
/// ("Environment variables and app settings in Azure App Service"); elsewhere (func start, tests of another host) a
/// client could set it, so the connection's peer is used. Documented in docs/azure.md.
/// </para>
/// </summary>
public sealed class PlatformClientAddress(IConfiguration configuration) : IClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";
    public const string PlatformSetting = "WEBSITE_SITE_NAME";

    private readonly bool _onPlatform = !string.IsNullOrWhiteSpace(configuration?[PlatformSetting]);

    public IPAddress? Resolve(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_onPlatform || !context.Request.Headers.TryGetValue(ForwardedForHeader, out var values) || values.Count == 0)
        {
            return context.Connection.RemoteIpAddress;
        }
        return RightMost(values.ToString()) ?? context.Connection.RemoteIpAddress;
    }

    /// <summary>The right-most address of an X-Forwarded-For value that is not a loopback hop; null if that entry does not parse.</summary>
    public static IPAddress? RightMost(string forwardedFor)
    {
        ArgumentNullException.ThrowIfNull(forwardedFor);
        var entries = forwardedFor.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (int i = entries.Length - 1; i >= 0; i--)
        {
            if (!TryParse(entries[i], out var address))
            {
                // Not an address: do not reach further left, into what the client wrote.
                return null;
            }
            if (!IPAddress.IsLoopback(address))
            {
                return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            }
        }
        return null;
    }

    /// <summary>Parses <c>a.b.c.d</c>, <c>a.b.c.d:port</c>, an IPv6 address, or <c>[v6]:port</c>.</summary>
    public static bool TryParse(string entry, out IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(entry);
        address = IPAddress.None;
        if (IPEndPoint.TryParse(entry, out var endpoint))
        {
            address = endpoint.Address;
            return true;
        }
        return IPAddress.TryParse(entry.Trim('[', ']'), out address!);
    }
}
