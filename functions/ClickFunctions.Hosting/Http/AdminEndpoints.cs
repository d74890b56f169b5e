using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Hosting.Accounts;
using ClickFunctions.Hosting.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Http;

/// <summary>The admin API's key: <c>Admin:ApiKey</c> (at least 16 characters).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    public string ApiKey { get; set; } = "";
}

public sealed record NewAdvertiser(string? Id, string? Name, string? TimeZone);

public sealed record NewKey(DateTimeOffset? Expires);

public sealed record KeyList(string AdvertiserId, IReadOnlyList<KeyInfo> Keys);

/// <summary>
/// Whether a request is the admin's. The local host checks the admin key (<see cref="AdminKeyIdentity"/>); the
/// Functions app checks the Easy Auth principal (an app role or a configured principal id).
/// </summary>
public interface IAdminIdentity
{
    ValueTask<bool> IsAdminAsync(HttpContext context, CancellationToken cancellationToken);
}

/// <summary>The admin key (<c>Admin:ApiKey</c>) in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>, compared in constant time.</summary>
public sealed class AdminKeyIdentity(IOptions<AdminOptions> options) : IAdminIdentity
{
    public ValueTask<bool> IsAdminAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string expected = options.Value.ApiKey;
        return ValueTask.FromResult(PresentedKey.From(context.Request) is { } presented
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))));
    }
}

/// <summary>
/// The admin API (docs/query-api.md, Admin API): advertisers and their query API keys at runtime, authenticated by
/// the admin key (<c>X-Api-Key</c> or <c>Authorization: Bearer</c>, compared in constant time). Failed
/// authentications count against the client's address like the query API's.
/// </summary>
public static class AdminEndpoints
{
    public const string GroupPrefix = "/api/admin";

    public static IServiceCollection AddAdminApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section))
            .Validate(o => o.ApiKey.Length >= 16, "Admin:ApiKey must be at least 16 characters.")
            .ValidateOnStart();
        services.AddSingleton<IAdminIdentity, AdminKeyIdentity>();
        return services.AddAdminJson();
    }

    /// <summary>The admin API's JSON contracts (both hosts); the host registers its own <see cref="IAdminIdentity"/>.</summary>
    public static IServiceCollection AddAdminJson(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJson.Default));
        return services;
    }

    public static RouteGroupBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(GroupPrefix).AddEndpointFilter(RequireAdminAsync).WithTags("Admin")
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized), new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests));
        admin.MapPost("/advertisers", AddAdvertiserAsync);
        admin.MapPost("/advertisers/{advertiserId}/keys", IssueKeyAsync);
        admin.MapGet("/advertisers/{advertiserId}/keys", ListKeysAsync);
        admin.MapDelete("/advertisers/{advertiserId}/keys/{keyId}", RevokeKeyAsync);
        return admin;
    }

    private static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await GateAsync(context.HttpContext).ConfigureAwait(false) ?? await next(context).ConfigureAwait(false);

    /// <summary>
    /// The admin gate: a client over its failed-authentication budget gets 429 (before any check, so guessing is
    /// throttled); a request that is not the admin's gets 401 and counts as one failure.
    /// </summary>
    public static async ValueTask<IResult?> GateAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var limits = http.RequestServices.GetRequiredService<QueryRateLimits>();
        string client = ApiConventions.ClientOf(http);
        if (limits.FailuresExhausted(client) is { } wait)
        {
            return ApiConventions.TooManyRequests(http, wait, "Too many failed authentications from this address; try again later.");
        }
        if (!await http.RequestServices.GetRequiredService<IAdminIdentity>().IsAdminAsync(http, http.RequestAborted).ConfigureAwait(false))
        {
            limits.RecordFailure(client);
            return TypedResults.Unauthorized();
        }
        return null;
    }

    /// <summary>What the group does, for a host without endpoint filters (the Functions worker): the gate, then the handler, written to the response.</summary>
    public static async Task ServeAsync(HttpContext http, Func<Task<IResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(handler);
        var result = await GateAsync(http).ConfigureAwait(false) ?? await handler().ConfigureAwait(false);
        await result.ExecuteAsync(http).ConfigureAwait(false);
    }

    /// <summary>A JSON request body read with the admin API's contracts; null with a 400 problem when it is not one.</summary>
    public static async Task<(T? Body, IResult? Problem)> ReadBodyAsync<T>(HttpRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, bool optional = false) where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (optional && request.ContentLength is null or 0 && !request.Headers.ContainsKey("Transfer-Encoding"))
        {
            return (null, null);
        }
        if (!request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON (Content-Type: application/json)."));
        }
        try
        {
            var body = await System.Text.Json.JsonSerializer.DeserializeAsync(request.Body, info, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return body is null && !optional ? (null, Problem(StatusCodes.Status400BadRequest, "The body must be a JSON object.")) : (body, null);
        }
        catch (System.Text.Json.JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "The body is not valid JSON for this request: " + e.Message));
        }
    }

    public static bool Known(HttpContext http, string advertiserId, AdvertiserAccount? account) =>
        account is not null || http.RequestServices.GetRequiredService<IOptions<AdvertisersOptions>>().Value.Advertisers.ContainsKey(advertiserId);

    public static async Task<IResult> AddAdvertiserAsync(NewAdvertiser body, IAccountStore accounts, TimeProvider time, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(accounts);
        if (!Signing.ClickUrlFields.IsValidAdvertiserId(body.Id))
        {
            return Problem(StatusCodes.Status400BadRequest, "id must be 1-64 characters of lower-case a-z 0-9 . _ ~ -.");
        }
        if (body.TimeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(body.TimeZone, out _))
        {
            return Problem(StatusCodes.Status400BadRequest, $"timeZone '{body.TimeZone}' is not an IANA time zone (e.g. Europe/Berlin).");
        }
        if (body.Name is { Length: > 200 })
        {
            return Problem(StatusCodes.Status400BadRequest, "name must be at most 200 characters.");
        }
        var account = new AdvertiserAccount(body.Id!, body.Name, body.TimeZone, time.GetUtcNow());
        if (Known(http, account.Id, null) || await accounts.AddAdvertiserAsync(account, http.RequestAborted).ConfigureAwait(false) == AddOutcome.Exists)
        {
            return Problem(StatusCodes.Status409Conflict, $"Advertiser '{account.Id}' already exists.");
        }
        return TypedResults.Created($"{GroupPrefix}/advertisers/{account.Id}", account);
    }

    public static async Task<IResult> IssueKeyAsync(string advertiserId, NewKey? body, IAccountStore accounts, TimeProvider time, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(time);
        if (!Known(http, advertiserId, await accounts.FindAdvertiserAsync(advertiserId, http.RequestAborted).ConfigureAwait(false)))
        {
            return Problem(StatusCodes.Status404NotFound, $"No advertiser '{advertiserId}'; create it with POST {GroupPrefix}/advertisers.");
        }
        var now = time.GetUtcNow();
        if (body?.Expires is { } expires && expires <= now)
        {
            return Problem(StatusCodes.Status400BadRequest, "expires must be in the future.");
        }
        var (stored, issued) = RuntimeKeys.Issue(advertiserId, now, body?.Expires);
        await accounts.AddKeyAsync(stored, http.RequestAborted).ConfigureAwait(false);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"{GroupPrefix}/advertisers/{advertiserId}/keys/{issued.KeyId}", issued);
    }

    public static async Task<IResult> ListKeysAsync(string advertiserId, IAccountStore accounts, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        if (!Known(http, advertiserId, await accounts.FindAdvertiserAsync(advertiserId, http.RequestAborted).ConfigureAwait(false)))
        {
            return Problem(StatusCodes.Status404NotFound, $"No advertiser '{advertiserId}'.");
        }
        var keys = await accounts.ListKeysAsync(advertiserId, http.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new KeyList(advertiserId, [.. keys.Select(k => new KeyInfo(k.KeyId, k.Prefix, k.Created, k.Expires))]));
    }

    public static async Task<IResult> RevokeKeyAsync(string advertiserId, string keyId, IAccountStore accounts, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        return await accounts.RevokeKeyAsync(advertiserId, keyId, http.RequestAborted).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : Problem(StatusCodes.Status404NotFound, $"Advertiser '{advertiserId}' has no key '{keyId}'.");
    }

    public static IResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
[System.Text.Json.Serialization.JsonSerializable(typeof(NewAdvertiser))]
[System.Text.Json.Serialization.JsonSerializable(typeof(NewKey))]
[System.Text.Json.Serialization.JsonSerializable(typeof(KeyList))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IssuedKey))]
[System.Text.Json.Serialization.JsonSerializable(typeof(AdvertiserAccount))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
public sealed partial class AdminJson : System.Text.Json.Serialization.JsonSerializerContext;
