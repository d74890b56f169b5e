using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Hosting.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// Resolves the key of an <c>X-Api-Key</c> or <c>Authorization: Bearer</c> header (<see cref="PresentedKey"/>) through configuration (<c>Advertisers:&lt;advertiserId&gt;:ApiKey</c>). The
/// presented key is hashed and compared with every configured key's hash in constant time, without stopping at a
/// match, so timing reveals neither a key nor which advertiser it belongs to.
/// </summary>
public sealed class ApiKeyAdvertiserIdentity : IAdvertiserIdentity
{
    public const string HeaderName = "X-Api-Key";

    private readonly (string AdvertiserId, byte[] KeyHash)[] _keys;

    private readonly Accounts.IAccountStore? _accounts;
    private readonly TimeProvider _time;

    public ApiKeyAdvertiserIdentity(IOptions<AdvertisersOptions> options, Accounts.IAccountStore? accounts = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _accounts = accounts;
        _time = time ?? TimeProvider.System;
        _keys = [.. options.Value.Advertisers.Select(a => (a.Key, SHA256.HashData(Encoding.UTF8.GetBytes(a.Value.ApiKey))))];
    }

    public async ValueTask<string?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ResolveConfigured(context) is { } configured)
        {
            return configured;
        }
        return _accounts is null ? null : await ResolveRuntimeKeyAsync(_accounts, context.Request, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A key issued at runtime (admin API): looked up by its SHA-256, so no comparison of the key itself; an expired
    /// key is refused here, a revoked one is no longer in the store. Both hosts use it.
    /// </summary>
    public static async ValueTask<string?> ResolveRuntimeKeyAsync(Accounts.IAccountStore accounts, HttpRequest request, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        if (PresentedKey.From(request) is { } key && Accounts.RuntimeKeys.Looks(key)
            && await accounts.FindByHashAsync(Accounts.RuntimeKeys.HashHex(key), cancellationToken).ConfigureAwait(false) is { } stored
            && (stored.Expires is not { } expires || expires > time.GetUtcNow()))
        {
            return stored.AdvertiserId;
        }
        return null;
    }

    private string? ResolveConfigured(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (PresentedKey.From(context.Request) is not { } key)
        {
            return null;
        }
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);
        string? match = null;
        foreach (var (advertiserId, keyHash) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, keyHash))
            {
                match = advertiserId;
            }
        }
        return match;
    }
}

public static class AdvertiserIdentityExtensions
{
    /// <summary>The local host's identity: API keys from configuration section <c>Advertisers</c>, validated at start.</summary>
    public static IHostApplicationBuilder AddApiKeyAdvertisers(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AdvertisersOptions>()
            .Configure<Microsoft.Extensions.Configuration.IConfiguration>((options, configuration) =>
            {
                foreach (var advertiser in configuration.GetSection(AdvertisersOptions.Section).GetChildren())
                {
                    options.Advertisers[advertiser.Key] = new AdvertiserCredentials
                    {
                        ApiKey = advertiser[nameof(AdvertiserCredentials.ApiKey)] ?? "",
                        TimeZone = advertiser[nameof(AdvertiserCredentials.TimeZone)],
                    };
                }
                options.Spellings.AddRange(AdvertiserIdSpellings.Collect(configuration));
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdvertisersOptions>, AdvertisersOptionsValidator>();
        builder.Services.AddSingleton<IAdvertiserIdentity, ApiKeyAdvertiserIdentity>();
        return builder;
    }
}
