using System.Net;
using System.Net.Sockets;

namespace ClickFunctions.Clicks;

/// <summary>Keeps only the network part of an address: IPv4 /24, IPv6 /48. This is all of the IP that is ever stored.</summary>
public static class IpTruncation
{
    public static string Truncate(IPAddress? ip)
    {
        if (ip is null)
        {
            return "";
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        Span<byte> bytes = stackalloc byte[16];
        if (!ip.TryWriteBytes(bytes, out int written))
        {
            return "";
        }
        int keep = ip.AddressFamily == AddressFamily.InterNetwork ? 3 : 6;
        bytes[keep..written].Clear();
        return new IPAddress(bytes[..written]).ToString();
    }
}
