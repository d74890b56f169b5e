using System.Text;
using System.Text.Json;
using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Identity;

public sealed class AdvertiserPrincipal
{
    /// <summary>The Entra object id (or app client id) Easy Auth reports for this advertiser's callers.</summary>
    public string PrincipalId { get; set; } = "";
}

/// <summary>Section <c>Advertisers</c>: <c>Advertisers:&lt;advertiserId&gt;:PrincipalId</c> (the local host reads <c>ApiKey</c> from the same entries).</summary>
public sealed class AdvertiserPrincipalOptions
{
    public const string Section = "Advertisers";

    /// <summary>
    /// The platform's own statement that App Service authentication is on: it sets <c>WEBSITE_AUTH_ENABLED=True</c>
    /// on the app when the Authentication / Authorization feature is enabled (the setting Microsoft.Identity.Web's
    /// AppServicesAuthenticationInformation reads for the same purpose; "Environment variables and app settings in
    /// Azure App Service", authentication section). Only then did the front end authenticate the caller and strip
    /// client-sent <c>X-MS-CLIENT-PRINCIPAL*</c> headers.
    /// </summary>
    public const string PlatformAuthenticationSetting = "WEBSITE_AUTH_ENABLED";

    public Dictionary<string, AdvertiserPrincipal> Advertisers { get; } = new(StringComparer.Ordinal);

    public bool PlatformAuthenticationEnabled { get; set; }

    public static void Bind(AdvertiserPrincipalOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        options.PlatformAuthenticationEnabled = string.Equals(configuration[PlatformAuthenticationSetting]?.Trim(), "True", StringComparison.OrdinalIgnoreCase);
        foreach (var advertiser in configuration.GetSection(Section).GetChildren())
        {
            options.Advertisers[advertiser.Key] = new AdvertiserPrincipal { PrincipalId = advertiser[nameof(AdvertiserPrincipal.PrincipalId)] ?? "" };
        }
    }
}

/// <summary>
/// Who is calling, from App Service authentication (Easy Auth): the platform authenticates the caller and passes
/// <c>X-MS-CLIENT-PRINCIPAL-ID</c> / <c>X-MS-CLIENT-PRINCIPAL</c> to the app, stripping any the client sent. These
/// headers are trustworthy only behind Easy Auth, which the infra enables with unauthenticated requests refused; when
/// the platform does not say authentication is on (<see cref="AdvertiserPrincipalOptions.PlatformAuthenticationSetting"/>),
/// anyone could send them, so they are ignored and every caller is anonymous (401).
/// </summary>
public sealed class AdvertiserPrincipals : IAdvertiserIdentity
{
    /// <summary>Claim types Easy Auth uses for app roles in <c>X-MS-CLIENT-PRINCIPAL</c> (besides the principal's own <c>role_typ</c>).</summary>
    private static readonly string[] RoleClaims = ["roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"];

    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";
    private static readonly string[] ObjectIdClaims = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];

    private readonly Dictionary<string, string> _advertiserByPrincipal;
    private readonly bool _platformAuthentication;
    private readonly IPrincipalDirectory? _directory;
    private readonly ClickFunctions.Hosting.Accounts.IAccountStore? _accounts;
    private readonly TimeProvider _time;

    public AdvertiserPrincipals(IOptions<AdvertiserPrincipalOptions> options, IPrincipalDirectory? directory = null,
        ClickFunctions.Hosting.Accounts.IAccountStore? accounts = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _directory = directory;
        _accounts = accounts;
        _time = time ?? TimeProvider.System;
        _platformAuthentication = options.Value.PlatformAuthenticationEnabled;
        _advertiserByPrincipal = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (advertiserId, entry) in options.Value.Advertisers)
        {
            _advertiserByPrincipal[entry.PrincipalId.Trim()] = advertiserId;
        }
    }

    /// <summary>
    /// The caller's advertiser: the Easy Auth principal mapped in configuration, else mapped at runtime through the
    /// admin API (<see cref="IPrincipalDirectory"/>, a point read per request, so a new or removed mapping holds on
    /// the next request); else a runtime API key (<c>X-Api-Key</c>) issued through the admin API, looked up by its hash.
    /// </summary>
    public async ValueTask<string?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Resolve(context.Request) is { } configured)
        {
            return configured;
        }
        if (_platformAuthentication && _directory is not null && PrincipalId(context.Request.Headers) is { } principal
            && PrincipalIds.Normalize(principal) is { } normalized
            && await _directory.AdvertiserOfAsync(normalized, cancellationToken).ConfigureAwait(false) is { } mapped)
        {
            return mapped;
        }
        return _accounts is null ? null : await ApiKeyAdvertiserIdentity.ResolveRuntimeKeyAsync(_accounts, context.Request, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The platform-authenticated caller's principal id and app roles, or null when platform authentication is off or there is no principal.</summary>
    public (string PrincipalId, IReadOnlyList<string> Roles)? Caller(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_platformAuthentication || PrincipalId(request.Headers) is not { } principal)
        {
            return null;
        }
        return (principal, Roles(request.Headers));
    }

    /// <summary>The app roles in <c>X-MS-CLIENT-PRINCIPAL</c>: claims of the principal's <c>role_typ</c>, or <c>roles</c> / the role URI.</summary>
    public static IReadOnlyList<string> Roles(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!headers.TryGetValue(PrincipalHeader, out var encoded) || encoded.ToString() is not { Length: > 0 } base64)
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
            var root = document.RootElement;
            string? roleType = root.TryGetProperty("role_typ", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString() : null;
            var roles = new List<string>();
            if (root.TryGetProperty("claims", out var claims) && claims.ValueKind == JsonValueKind.Array)
            {
                foreach (var claim in claims.EnumerateArray())
                {
                    if (claim.TryGetProperty("typ", out var typ) && typ.GetString() is { } type
                        && (string.Equals(type, roleType, StringComparison.OrdinalIgnoreCase) || RoleClaims.Contains(type, StringComparer.OrdinalIgnoreCase))
                        && claim.TryGetProperty("val", out var val) && val.GetString() is { Length: > 0 } role)
                    {
                        roles.Add(role);
                    }
                }
            }
            return roles;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return [];
        }
    }

    /// <summary>The caller's advertiser id, or null when the caller is anonymous or not an advertiser.</summary>
    public string? Resolve(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_platformAuthentication)
        {
            return null;
        }
        string? principal = PrincipalId(request.Headers);
        return principal is not null && _advertiserByPrincipal.TryGetValue(principal, out var advertiser) ? advertiser : null;
    }

    public static string? PrincipalId(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.TryGetValue(PrincipalIdHeader, out var id) && id.ToString() is { Length: > 0 } direct)
        {
            return direct.Trim();
        }
        if (!headers.TryGetValue(PrincipalHeader, out var encoded) || encoded.ToString() is not { Length: > 0 } base64)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
            if (document.RootElement.TryGetProperty("claims", out var claims) && claims.ValueKind == JsonValueKind.Array)
            {
                foreach (var claim in claims.EnumerateArray())
                {
                    if (claim.TryGetProperty("typ", out var typ) && ObjectIdClaims.Contains(typ.GetString(), StringComparer.OrdinalIgnoreCase)
                        && claim.TryGetProperty("val", out var val) && val.GetString() is { Length: > 0 } oid)
                    {
                        return oid;
                    }
                }
            }
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
        return null;
    }
}
