using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>GET/HEAD /c: the shared click handler (verify, classify, publish to Event Hubs, 302 only after the ack).</summary>
public static class ClickRedirect
{
    [Function(nameof(ClickRedirect))]
    public static async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "c")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        await ClickEndpoints.HandleAsync(request.HttpContext).ConfigureAwait(false);
        // The handler wrote the whole response (302, 4xx or 503); nothing more to render.
        return new EmptyResult();
    }
}
