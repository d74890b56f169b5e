using ClickFunctions.Functions.Queries;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/ads/{adId}/clicks and GET /api/advertisers/{advertiserId}/ads, the same contract as the local host.
/// The caller is the Easy Auth principal (App Service authentication), mapped to an advertiser by configuration.
/// </summary>
public sealed class QueryClicks(QueryClicksHandler handler)
{
    public const string Route = "api/{resource}/{id}/{collection}";

    [Function(nameof(QueryClicks))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Route)] HttpRequest request,
        string resource,
        string id,
        string collection)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await handler.HandleAsync(request, resource, id, collection, request.HttpContext.RequestAborted).ConfigureAwait(false);
        await result.ExecuteAsync(request.HttpContext).ConfigureAwait(false);
        return new EmptyResult();
    }
}
