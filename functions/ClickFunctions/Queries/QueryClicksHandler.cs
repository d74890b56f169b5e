using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClickFunctions.Functions.Queries;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AdClicks))]
[JsonSerializable(typeof(AdvertiserAds))]
public sealed partial class QueryJsonContext : JsonSerializerContext;

/// <summary>
/// The query API over the core's query contract (<see cref="QueryParameters"/>, <see cref="IClickQueries"/> on ADX):
/// <c>/api/ads/{adId}/clicks?from&amp;to&amp;granularity</c> and <c>/api/advertisers/{advertiserId}/ads?from&amp;to</c>.
/// 401 without an advertiser identity; another advertiser's ad or listing answers exactly like a missing one (404);
/// bad parameters get 400 problem+json saying what is wrong.
/// </summary>
public sealed class QueryClicksHandler(AdvertiserPrincipals principals, IClickQueries queries)
{
    public async Task<IResult> HandleAsync(HttpRequest request, string resource, string id, string collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool adClicks = resource == "ads" && collection == "clicks";
        bool advertiserAds = resource == "advertisers" && collection == "ads";
        if (!adClicks && !advertiserAds)
        {
            return TypedResults.NotFound();
        }
        if (principals.Resolve(request) is not { } advertiserId)
        {
            return TypedResults.Unauthorized();
        }
        var q = request.Query;
        if (advertiserAds)
        {
            if (!string.Equals(id, advertiserId, StringComparison.Ordinal))
            {
                return TypedResults.NotFound();
            }
            if (!QueryParameters.TryAdvertiserAds(advertiserId, q["from"], q["to"], out var listing, out var listingProblem))
            {
                return Problem(listingProblem);
            }
            var ads = await queries.ListAdsAsync(listing, cancellationToken).ConfigureAwait(false);
            return TypedResults.Json(ads, QueryJsonContext.Default.AdvertiserAds);
        }
        if (!QueryParameters.TryAdClicks(advertiserId, id, q["from"], q["to"], q["granularity"], out var query, out var problem))
        {
            return Problem(problem);
        }
        var clicks = await queries.GetAdClicksAsync(query, cancellationToken).ConfigureAwait(false);
        return clicks is null ? TypedResults.NotFound() : TypedResults.Json(clicks, QueryJsonContext.Default.AdClicks);
    }

    private static ProblemHttpResult Problem(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad query parameters");
}
