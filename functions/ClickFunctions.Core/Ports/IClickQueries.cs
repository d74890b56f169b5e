using ClickFunctions.Queries;

namespace ClickFunctions.Ports;

/// <summary>
/// The read side of the bucket store, served by the embedded store (DuckDB rollups) and by ADX (materialized
/// views). Queries arrive validated (<see cref="QueryParameters"/>) and already scoped to the authenticated
/// advertiser: an implementation only ever returns rows of <c>query.AdvertiserId</c>.
/// </summary>
public interface IClickQueries
{
    /// <summary>
    /// The ad's non-empty buckets in the range, ascending by start, read from the rollup
    /// <see cref="QueryPlanner.ForBuckets"/> names. <see langword="null"/> when the advertiser has no such ad
    /// (never counted a click for it, valid or not): the caller answers 404 exactly as for another advertiser's ad.
    /// An ad that exists but has no clicks in the range gives an <see cref="AdClicks"/> with no buckets.
    /// </summary>
    ValueTask<AdClicks?> GetAdClicksAsync(AdClicksQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The breakdown of one ad (<c>query.AdId</c>) or of the whole advertiser by a dimension, ad or campaign;
    /// <see langword="null"/> when the advertiser has no such ad (404 as above).
    /// </summary>
    ValueTask<Breakdown?> GetBreakdownAsync(BreakdownQuery query, CancellationToken cancellationToken);

    /// <summary>The advertiser's ads with any click in the range and their totals, ordered by <see cref="AdvertiserAds.Order"/>.</summary>
    ValueTask<AdvertiserAds> ListAdsAsync(AdvertiserAdsQuery query, CancellationToken cancellationToken);
}

/// <summary>The store behind this host cannot answer this kind of query (yet); the API answers 501 with the message.</summary>
public sealed class QueryNotAvailableException(string message) : NotSupportedException(message);

/// <summary>
/// The store could not answer within the resources it is configured with (the embedded store's DuckDB memory limit);
/// the API answers 503 with the message, which names the setting to raise. Not the caller's fault and not a silent zero.
/// </summary>
public sealed class QueryResourcesExhaustedException(string message, Exception? inner = null) : Exception(message, inner);
