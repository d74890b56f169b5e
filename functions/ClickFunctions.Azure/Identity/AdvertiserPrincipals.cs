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

    public Dictionary<string, AdvertiserPrincipal> Advertisers { get; } = new(StringComparer.Ordinal);

    public static void Bind(AdvertiserPrincipalOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var advertiser in configuration.GetSection(Section).GetChildren())
        {
            options.Advertisers[advertiser.Key] = new AdvertiserPrincipal { PrincipalId = advertiser[nameof(AdvertiserPrincipal.PrincipalId)] ?? "" };
        }
    }
}

/// <summary>
/// Who is calling, from App Service authentication (Easy Auth): the platform authenticates the caller and passes
/// <c>X-MS-CLIENT-PRINCIPAL-ID</c> / <c>X-MS-CLIENT-PRINCIPAL</c> to the app, stripping any the client sent. These
/// headers are trustworthy only behind Easy Auth, which the infra enables with unauthenticated requests refused.
/// </summary>
public sealed class AdvertiserPrincipals : IAdvertiserIdentity
{
    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";
    private static readonly string[] ObjectIdClaims = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];

    private readonly Dictionary<string, string> _advertiserByPrincipal;

    public AdvertiserPrincipals(IOptions<AdvertiserPrincipalOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _advertiserByPrincipal = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (advertiserId, entry) in options.Value.Advertisers)
        {
            _advertiserByPrincipal[entry.PrincipalId.Trim()] = advertiserId;
        }
    }

    public ValueTask<string?> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(Resolve(context.Request));
    }

    /// <summary>The caller's advertiser id, or null when the caller is anonymous or not an advertiser.</summary>
    public string? Resolve(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
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
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
        return null;
    }
}
