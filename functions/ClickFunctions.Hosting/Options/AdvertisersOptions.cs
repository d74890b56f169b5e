using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Options;

/// <summary>One advertiser's credentials: <c>Advertisers:&lt;advertiserId&gt;:ApiKey</c>.</summary>
public sealed class AdvertiserCredentials
{
    public string ApiKey { get; set; } = "";
}

/// <summary>Configuration section <c>Advertisers</c>: advertiser id → credentials, for the API-key identity of the local host.</summary>
public sealed class AdvertisersOptions
{
    public const string Section = "Advertisers";

    public const int MinApiKeyLength = 16;

    public Dictionary<string, AdvertiserCredentials> Advertisers { get; } = new(StringComparer.Ordinal);
}

public sealed class AdvertisersOptionsValidator : IValidateOptions<AdvertisersOptions>
{
    public ValidateOptionsResult Validate(string? name, AdvertisersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (advertiserId, credentials) in options.Advertisers)
        {
            if (!Signing.ClickUrlFields.IsValidId(advertiserId))
            {
                failures.Add($"Advertisers:{advertiserId}: an advertiser id must be 1-64 characters of A-Z a-z 0-9 . _ ~ -.");
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
