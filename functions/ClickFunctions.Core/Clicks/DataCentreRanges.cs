using System.Net;
using System.Net.Sockets;

namespace ClickFunctions.Clicks;

/// <summary>
/// Configured data-centre address ranges (CIDR, IPv4 or IPv6), checked against the full client address at capture,
/// before truncation: a click from inside one is invalid with reason <c>data_centre</c>. IPv4-mapped IPv6 addresses
/// (<c>::ffff:203.0.113.7</c>, how a dual-stack socket reports IPv4 peers) are compared as IPv4.
/// </summary>
public sealed class DataCentreRanges
{
    private readonly IPNetwork[] _v4;
    private readonly IPNetwork[] _v6;

    public DataCentreRanges(IEnumerable<string> cidrs)
    {
        ArgumentNullException.ThrowIfNull(cidrs);
        var all = new List<IPNetwork>();
        foreach (string text in cidrs)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            if (!IPNetwork.TryParse(text.Trim(), out var network))
            {
                // IPNetwork.TryParse refuses host bits set past the prefix (203.0.113.7/24): say which entry.
                throw new FormatException($"'{text}' is not a CIDR range (address/prefix with no host bits set, e.g. 203.0.113.0/24).");
            }
            all.Add(network);
        }
        _v4 = [.. all.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork)];
        _v6 = [.. all.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6)];
    }

    public int Count => _v4.Length + _v6.Length;

    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in address.AddressFamily == AddressFamily.InterNetwork ? _v4 : _v6)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }
}
