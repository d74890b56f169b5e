using ClickFunctions.Azure.Identity;
using ClickFunctions.Hosting.Accounts;
using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// The admin API (docs/query-api.md, Admin API) in the Functions app: the local host's contract for advertisers and
/// keys, plus the Entra principals that query as an advertiser, all kept in Table Storage (decision 078). Every
/// function runs the shared admin gate first: the caller must be the Easy Auth admin (<see cref="EasyAuthAdminIdentity"/>),
/// else 401, with failed attempts throttled per client address.
/// </summary>
public sealed class AdminFunctions(IAccountStore accounts, IPrincipalDirectory principals, TimeProvider time)
{
    [Function("AdminAddAdvertiser")]
    public Task<IActionResult> AddAdvertiserAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/admin/advertisers")] HttpRequest request) =>
        ServeAsync(request, async () =>
        {
            var (body, problem) = await AdminEndpoints.ReadBodyAsync(request, AdminJson.Default.NewAdvertiser).ConfigureAwait(false);
            return problem ?? await AdminEndpoints.AddAdvertiserAsync(body!, accounts, time, request.HttpContext).ConfigureAwait(false);
        });

    [Function("AdminIssueKey")]
    public Task<IActionResult> IssueKeyAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/admin/advertisers/{advertiserId}/keys")] HttpRequest request, string advertiserId) =>
        ServeAsync(request, async () =>
        {
            var (body, problem) = await AdminEndpoints.ReadBodyAsync(request, AdminJson.Default.NewKey, optional: true).ConfigureAwait(false);
            return problem ?? await AdminEndpoints.IssueKeyAsync(advertiserId, body, accounts, time, request.HttpContext).ConfigureAwait(false);
        });

    [Function("AdminListKeys")]
    public Task<IActionResult> ListKeysAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/admin/advertisers/{advertiserId}/keys")] HttpRequest request, string advertiserId) =>
        ServeAsync(request, () => AdminEndpoints.ListKeysAsync(advertiserId, accounts, request.HttpContext));

    [Function("AdminRevokeKey")]
    public Task<IActionResult> RevokeKeyAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "api/admin/advertisers/{advertiserId}/keys/{keyId}")] HttpRequest request, string advertiserId, string keyId) =>
        ServeAsync(request, () => AdminEndpoints.RevokeKeyAsync(advertiserId, keyId, accounts, request.HttpContext));

    [Function("AdminMapPrincipal")]
    public Task<IActionResult> MapPrincipalAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/admin/advertisers/{advertiserId}/principals")] HttpRequest request, string advertiserId) =>
        ServeAsync(request, async () =>
        {
            var (body, problem) = await AdminEndpoints.ReadBodyAsync(request, PrincipalJson.Default.NewPrincipal).ConfigureAwait(false);
            return problem ?? await PrincipalAdminEndpoints.MapPrincipalAsync(advertiserId, body!, accounts, principals, time, request.HttpContext).ConfigureAwait(false);
        });

    [Function("AdminListPrincipals")]
    public Task<IActionResult> ListPrincipalsAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/admin/advertisers/{advertiserId}/principals")] HttpRequest request, string advertiserId) =>
        ServeAsync(request, () => PrincipalAdminEndpoints.ListPrincipalsAsync(advertiserId, accounts, principals, request.HttpContext));

    [Function("AdminUnmapPrincipal")]
    public Task<IActionResult> UnmapPrincipalAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "api/admin/advertisers/{advertiserId}/principals/{principalId}")] HttpRequest request, string advertiserId, string principalId) =>
        ServeAsync(request, () => PrincipalAdminEndpoints.UnmapPrincipalAsync(advertiserId, principalId, principals, request.HttpContext));

    private static async Task<IActionResult> ServeAsync(HttpRequest request, Func<Task<IResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(request);
        await AdminEndpoints.ServeAsync(request.HttpContext, handler).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
}
