using System.Net;
using ClickFunctions.Ports;
using MaxMind.Db;
using MaxMind.GeoIP2;

namespace ClickFunctions.Hosting.Geo;

/// <summary>
/// Country of a full client address from a MaxMind-format database (GeoIP2/GeoLite2 Country or City, or any
/// database with the same <c>country</c> record), read into memory once at start. The located country
/// (<c>country.iso_code</c>) is preferred; an address with only a registered country (<c>registered_country</c>,
/// e.g. some anycast or satellite ranges) gets that. Thread-safe: <see cref="DatabaseReader"/> is.
/// </summary>
public sealed class MaxMindCountryLookup : ICountryLookup, IDisposable
{
    private readonly DatabaseReader _reader;
    private readonly bool _city;

    public MaxMindCountryLookup(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Geo:CountryDatabase names '{path}', which does not exist.", path);
        }
        try
        {
            _reader = new DatabaseReader(path, FileAccessMode.Memory);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"Geo:CountryDatabase '{path}' is not a MaxMind database: {e.Message}", e);
        }
        string type = _reader.Metadata.DatabaseType;
        _city = type.Contains("City", StringComparison.OrdinalIgnoreCase) || type.Contains("Enterprise", StringComparison.OrdinalIgnoreCase);
        DatabaseType = type;
    }

    /// <summary>The database's own type, e.g. <c>GeoLite2-Country</c>.</summary>
    public string DatabaseType { get; }

    public string? CountryOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        try
        {
            if (_city)
            {
                return _reader.TryCity(address, out var city) && city is not null ? city.Country.IsoCode ?? city.RegisteredCountry.IsoCode : null;
            }
            return _reader.TryCountry(address, out var country) && country is not null ? country.Country.IsoCode ?? country.RegisteredCountry.IsoCode : null;
        }
        catch (InvalidDatabaseException)
        {
            return null; // a corrupt record: unknown country, never a failed click
        }
    }

    public void Dispose() => _reader.Dispose();
}
