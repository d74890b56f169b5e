using System.Net;
using ClickFunctions.Ports;
using MaxMind.Db;

namespace ClickFunctions.Hosting.Geo;

/// <summary>
/// Country of a full client address from a MaxMind-format database (GeoIP2/GeoLite2 Country or City, or any
/// database with the same <c>country</c> record), read into memory once at start. The located country
/// (<c>country.iso_code</c>) is preferred; an address with only a registered country (<c>registered_country</c>,
/// e.g. some anycast or satellite ranges) gets that. Thread-safe: <see cref="Reader"/> is.
/// The record is decoded into <see cref="CountryRecord"/>, which names only the two ISO codes: the database reader
/// skips every other field (names in eight languages, continent, traits) instead of building GeoIP2's full response
/// objects for each click (decision 091).
/// </summary>
public sealed class MaxMindCountryLookup : ICountryLookup, IDisposable
{
    private readonly Reader _reader;

    public MaxMindCountryLookup(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Geo:CountryDatabase names '{path}', which does not exist.", path);
        }
        try
        {
            _reader = new Reader(path, FileAccessMode.Memory);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"Geo:CountryDatabase '{path}' is not a MaxMind database: {e.Message}", e);
        }
        DatabaseType = _reader.Metadata.DatabaseType;
    }

    /// <summary>The database's own type, e.g. <c>GeoLite2-Country</c>.</summary>
    public string DatabaseType { get; }

    public string? CountryOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        try
        {
            var record = _reader.Find<CountryRecord>(address);
            return record?.Country?.IsoCode ?? record?.RegisteredCountry?.IsoCode;
        }
        catch (InvalidDatabaseException)
        {
            return null; // a corrupt record: unknown country, never a failed click
        }
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>The part of a Country or City record a click needs (MaxMind DB format: the record is a map).</summary>
    public sealed class CountryRecord
    {
        [Constructor]
        public CountryRecord([MapKey("country")] IsoCodeRecord? country = null, [MapKey("registered_country")] IsoCodeRecord? registeredCountry = null)
        {
            Country = country;
            RegisteredCountry = registeredCountry;
        }

        public IsoCodeRecord? Country { get; }

        public IsoCodeRecord? RegisteredCountry { get; }
    }

    /// <summary>A <c>country</c> or <c>registered_country</c> map, of which only <c>iso_code</c> is read.</summary>
    public sealed class IsoCodeRecord
    {
        [Constructor]
        public IsoCodeRecord([MapKey("iso_code")] string? isoCode = null) => IsoCode = isoCode;

        public string? IsoCode { get; }
    }
}
