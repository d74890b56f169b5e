using System.Net;

namespace ClickFunctions.Ports;

/// <summary>Where an address is: the country of a full (never truncated) client IP, looked up at click time.</summary>
public interface ICountryLookup
{
    /// <summary>ISO 3166-1 alpha-2 in upper case, or null when the address is not in the database.</summary>
    string? CountryOf(IPAddress address);
}
