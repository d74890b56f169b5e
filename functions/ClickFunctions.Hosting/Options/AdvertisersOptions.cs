using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Options;

/// <summary>
/// One advertiser's settings: <c>Advertisers:&lt;advertiserId&gt;:ApiKey</c>, and optionally
/// <c>Advertisers:&lt;advertiserId&gt;:TimeZone</c>, the IANA zone its queries use when they name none (else UTC).
/// </summary>
public sealed class AdvertiserCredentials
{
    public string ApiKey { get; set; } = "";

    public string? TimeZone { get; set; }
}

/// <summary>Configuration section <c>Advertisers</c>: advertiser id → credentials, for the API-key identity of the local host.</summary>
public sealed class AdvertisersOptions
{
    public const string Section = "Advertisers";

    public const int MinApiKeyLength = 16;

    public Dictionary<string, AdvertiserCredentials> Advertisers { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Every spelling of an advertiser id the configuration's sources hold, with where it was found. The merged
    /// configuration cannot show two ids that differ only in letter case (its keys ignore case, so they become one
    /// advertiser); the sources' own keys and the raw environment and command line can.
    /// </summary>
    public List<(string AdvertiserId, string Source)> Spellings { get; } = [];
}

public sealed class AdvertisersOptionsValidator : IValidateOptions<AdvertisersOptions>
{
    public ValidateOptionsResult Validate(string? name, AdvertisersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var group in options.Spellings.GroupBy(s => s.AdvertiserId, StringComparer.OrdinalIgnoreCase))
        {
            var spellings = group.DistinctBy(s => s.AdvertiserId, StringComparer.Ordinal).ToList();
            if (spellings.Count > 1)
            {
                failures.Add($"Advertisers: {string.Join(" and ", spellings.Select(s => $"'{s.AdvertiserId}' ({s.Source})"))} " +
                    "would be one advertiser, because configuration keys ignore letter case; " +
                    $"{Signing.ClickUrlFields.AdvertiserIdRule}: rename or remove all but one.");
            }
            foreach (var (advertiserId, source) in spellings.Where(s => !Signing.ClickUrlFields.IsValidAdvertiserId(s.AdvertiserId) && !options.Advertisers.ContainsKey(s.AdvertiserId)))
            {
                failures.Add($"Advertisers:{advertiserId} ({source}): {Signing.ClickUrlFields.AdvertiserIdRule}.");
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (advertiserId, credentials) in options.Advertisers)
        {
            if (!Signing.ClickUrlFields.IsValidAdvertiserId(advertiserId))
            {
                failures.Add($"Advertisers:{advertiserId}: {Signing.ClickUrlFields.AdvertiserIdRule}.");
            }
            if (!string.IsNullOrEmpty(credentials.TimeZone) && Queries.LocalCalendar.FindZone(credentials.TimeZone) is null)
            {
                failures.Add($"Advertisers:{advertiserId}:TimeZone '{credentials.TimeZone}' is not an IANA time zone this host knows (e.g. America/New_York, Europe/Berlin, UTC).");
            }
            if (credentials.ApiKey.Length < AdvertisersOptions.MinApiKeyLength)
            {
                failures.Add($"Advertisers:{advertiserId}:ApiKey must be at least {AdvertisersOptions.MinApiKeyLength} characters.");
            }
            else if (!seen.Add(credentials.ApiKey))
            {
                failures.Add($"Advertisers:{advertiserId}:ApiKey is the same as another advertiser's key.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Finds how each source of a configuration spells the advertiser ids under <c>Advertisers</c>.</summary>
public static class AdvertiserIdSpellings
{
    private static readonly string[] EnvironmentPrefixes = ["", "ASPNETCORE_", "DOTNET_"];

    public static IEnumerable<(string AdvertiserId, string Source)> Collect(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration is not Microsoft.Extensions.Configuration.IConfigurationRoot root)
        {
            foreach (var child in configuration.GetSection(AdvertisersOptions.Section).GetChildren())
            {
                yield return (child.Key, "configuration");
            }
            yield break;
        }
        foreach (var provider in root.Providers)
        {
            // A provider's own keys keep the spelling of its source, but one provider merges its own duplicates
            // (two environment variables, two command-line arguments): those two are read raw below.
            foreach (var key in provider.GetChildKeys([], AdvertisersOptions.Section).Distinct(StringComparer.Ordinal))
            {
                yield return (key, provider.ToString() ?? provider.GetType().Name);
            }
            if (provider is Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider)
            {
                // The provider keeps its arguments to itself; the process's own are what it was given.
                foreach (var argument in Environment.GetCommandLineArgs().Skip(1))
                {
                    string key = argument.TrimStart('-', '/').Split('=', 2)[0];
                    if (IdIn(key, ":") is { } id)
                    {
                        yield return (id, $"command-line argument {key}");
                    }
                }
            }
            if (provider is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider)
            {
                foreach (string name in Environment.GetEnvironmentVariables().Keys)
                {
                    foreach (var prefix in EnvironmentPrefixes)
                    {
                        if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && IdIn(name[prefix.Length..].Replace("__", ":", StringComparison.Ordinal), ":") is { } id)
                        {
                            yield return (id, $"environment variable {name}");
                        }
                    }
                }
            }
        }
    }

    private static string? IdIn(string key, string separator)
    {
        var parts = key.Split(separator);
        return parts.Length >= 2 && parts[0].Equals(AdvertisersOptions.Section, StringComparison.OrdinalIgnoreCase) && parts[1].Length > 0 ? parts[1] : null;
    }
}
