using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/me: the shared handler (the same contract as the local host): the advertiser the Easy Auth principal or
/// key resolves to, with the name and time zone its account holds.
/// </summary>
public sealed class GetMe
{
    [Function(nameof(GetMe))]
#pragma warning disable CA1822 // the worker invokes function methods on an instance
    public async Task<IActionResult> RunAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/me")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var parameters = new MeRequest(context, context.RequestAborted);
        await QueryEndpoints.ServeAsync(context, typeof(MeRequest), async () => await QueryEndpoints.GetMeAsync(parameters).ConfigureAwait(false)).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
#pragma warning restore CA1822
}
