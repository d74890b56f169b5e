using ClickFunctions.Hosting.Accounts;
using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Identity;

/// <summary>An Entra principal (object id of a user, or of an app's service principal) mapped to an advertiser at runtime.</summary>
public sealed record PrincipalMapping(string PrincipalId, string AdvertiserId, DateTimeOffset Created);

public sealed record NewPrincipal(string? PrincipalId);

public sealed record PrincipalList(string AdvertiserId, IReadOnlyList<PrincipalMapping> Principals);

/// <summary>Principal → advertiser mappings made at runtime through the admin API (the Functions app keeps them in Table Storage).</summary>
public interface IPrincipalDirectory
{
    /// <summary>Maps the principal; <see cref="AddOutcome.Exists"/> when it is already mapped (to any advertiser: one principal, one advertiser).</summary>
    Task<AddOutcome> MapAsync(PrincipalMapping mapping, CancellationToken cancellationToken);

    Task<string?> AdvertiserOfAsync(string principalId, CancellationToken cancellationToken);

    Task<IReadOnlyList<PrincipalMapping>> ListAsync(string advertiserId, CancellationToken cancellationToken);

    /// <summary>Removes the mapping; false if the principal is not mapped to this advertiser.</summary>
    Task<bool> UnmapAsync(string advertiserId, string principalId, CancellationToken cancellationToken);
}

public static class PrincipalIds
{
    /// <summary>Entra object ids and client ids are GUIDs: the canonical lower-case form, or null for anything else.</summary>
    public static string? Normalize(string? principalId) =>
        Guid.TryParse(principalId?.Trim(), out var id) ? id.ToString("D") : null;
}

/// <summary>
/// Section <c>Admin</c> of the Functions app: who may call the admin API. <c>Admin:Role</c> (default
/// <c>ClickFunctions.Admin</c>) is an app role of the Entra app registration Easy Auth validates tokens for; a
/// caller whose token carries it is the admin. <c>Admin:PrincipalIds</c> lists object ids (comma-separated) that are
/// the admin without the role. Both need App Service authentication on (decision 067).
/// </summary>
public sealed class AdminPrincipalOptions
{
    public const string Section = "Admin";
    public const string DefaultRole = "ClickFunctions.Admin";

    public string Role { get; set; } = DefaultRole;

    public HashSet<string> PrincipalIds { get; } = new(StringComparer.Ordinal);

    public static void Bind(AdminPrincipalOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        if (section[nameof(Role)] is { Length: > 0 } role)
        {
            options.Role = role.Trim();
        }
        var ids = section.GetSection(nameof(PrincipalIds));
        IEnumerable<string?> values = ids.Value is { Length: > 0 } list ? list.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : ids.GetChildren().Select(c => c.Value);
        foreach (var value in values)
        {
            options.PrincipalIds.Add(Identity.PrincipalIds.Normalize(value) ?? throw new OptionsValidationException(Section, typeof(AdminPrincipalOptions),
                [$"Admin:PrincipalIds: '{value}' is not an Entra object id (a GUID)."]));
        }
    }
}

/// <summary>
/// The Functions app's admin: an Easy Auth principal with the admin app role or a configured admin object id. The
/// principal headers count only when the platform says authentication is on (<see cref="AdvertiserPrincipals"/>).
/// </summary>
public sealed class EasyAuthAdminIdentity(AdvertiserPrincipals principals, IOptions<AdminPrincipalOptions> options) : IAdminIdentity
{
    public ValueTask<bool> IsAdminAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (principals.Caller(context.Request) is not { } caller)
        {
            return ValueTask.FromResult(false);
        }
        var admin = options.Value;
        bool isAdmin = (PrincipalIds.Normalize(caller.PrincipalId) is { } id && admin.PrincipalIds.Contains(id))
            || (admin.Role.Length > 0 && caller.Roles.Contains(admin.Role, StringComparer.Ordinal));
        return ValueTask.FromResult(isAdmin);
    }
}

/// <summary>
/// The admin API's principal routes (Functions app only, docs/query-api.md): which Entra principals query as an
/// advertiser, changed at runtime, so onboarding needs no redeploy.
/// </summary>
public static class PrincipalAdminEndpoints
{
    public const string PrincipalsRoute = AdminEndpoints.GroupPrefix + "/advertisers/{advertiserId}/principals";

    /// <summary>The principal routes on the admin group (the Functions app's API description maps them; the worker serves them as functions).</summary>
    public static Microsoft.AspNetCore.Routing.RouteGroupBuilder MapPrincipalEndpoints(this Microsoft.AspNetCore.Routing.RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapPost(admin, "/advertisers/{advertiserId}/principals", MapPrincipalAsync);
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(admin, "/advertisers/{advertiserId}/principals", ListPrincipalsAsync);
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapDelete(admin, "/advertisers/{advertiserId}/principals/{principalId}", UnmapPrincipalAsync);
        return admin;
    }

    public static async Task<IResult> MapPrincipalAsync(string advertiserId, NewPrincipal body, IAccountStore accounts, IPrincipalDirectory directory, TimeProvider time, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(http);
        if (PrincipalIds.Normalize(body.PrincipalId) is not { } principal)
        {
            return AdminEndpoints.Problem(StatusCodes.Status400BadRequest, "principalId must be an Entra object id (a GUID).");
        }
        if (!AdminEndpoints.Known(http, advertiserId, await accounts.FindAdvertiserAsync(advertiserId, http.RequestAborted).ConfigureAwait(false)))
        {
            return AdminEndpoints.Problem(StatusCodes.Status404NotFound, $"No advertiser '{advertiserId}'; create it with POST {AdminEndpoints.GroupPrefix}/advertisers.");
        }
        var mapping = new PrincipalMapping(principal, advertiserId, time.GetUtcNow());
        if (await directory.MapAsync(mapping, http.RequestAborted).ConfigureAwait(false) == AddOutcome.Exists)
        {
            return AdminEndpoints.Problem(StatusCodes.Status409Conflict, $"Principal '{principal}' is already mapped to an advertiser; remove that mapping first.");
        }
        return TypedResults.Created($"{AdminEndpoints.GroupPrefix}/advertisers/{advertiserId}/principals/{principal}", mapping);
    }

    public static async Task<IResult> ListPrincipalsAsync(string advertiserId, IAccountStore accounts, IPrincipalDirectory directory, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(http);
        if (!AdminEndpoints.Known(http, advertiserId, await accounts.FindAdvertiserAsync(advertiserId, http.RequestAborted).ConfigureAwait(false)))
        {
            return AdminEndpoints.Problem(StatusCodes.Status404NotFound, $"No advertiser '{advertiserId}'.");
        }
        return TypedResults.Ok(new PrincipalList(advertiserId, await directory.ListAsync(advertiserId, http.RequestAborted).ConfigureAwait(false)));
    }

    public static async Task<IResult> UnmapPrincipalAsync(string advertiserId, string principalId, IPrincipalDirectory directory, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(http);
        return PrincipalIds.Normalize(principalId) is { } principal && await directory.UnmapAsync(advertiserId, principal, http.RequestAborted).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : AdminEndpoints.Problem(StatusCodes.Status404NotFound, $"Principal '{principalId}' is not mapped to advertiser '{advertiserId}'.");
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
[System.Text.Json.Serialization.JsonSerializable(typeof(NewPrincipal))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PrincipalMapping))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PrincipalList))]
public sealed partial class PrincipalJson : System.Text.Json.Serialization.JsonSerializerContext;
