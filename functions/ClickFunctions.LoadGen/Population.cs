using System.Globalization;
using ClickFunctions.Signing;

namespace ClickFunctions.LoadGen;

public enum ClickKind
{
    /// <summary>A new impression clicked by a browser: counts once.</summary>
    Valid,
    /// <summary>A repeat of an earlier valid click's impression: redirected, counted as a duplicate.</summary>
    Duplicate,
    /// <summary>A bot user agent: redirected, counted invalid.</summary>
    Bot,
    /// <summary>A tampered signature: refused (403), never recorded.</summary>
    BadSignature,
}

/// <summary>One request to send, minted before the run so that signing costs nothing while measuring.</summary>
public sealed record PlannedClick(string PathAndQuery, ClickKind Kind, string AdvertiserId, string AdId);

public sealed record PopulationOptions(int Ads, int Advertisers, double ZipfExponent, double DuplicateRate, double BotShare, double InvalidShare, string LandingUrl, int Seed, string AdvertiserPrefix = "lg-adv-");

/// <summary>
/// A synthetic ad population: ads ad-0..ad-{n-1} owned round-robin by advertisers {prefix}0.. (default lg-adv-0..), picked with a Zipf
/// distribution (a few hot ads take most clicks), and a mix of valid, duplicate, bot and badly signed clicks.
/// </summary>
public sealed class Population
{
    private readonly PopulationOptions _options;
    private readonly double[] _cdf;
    private readonly Random _random;
    private readonly ClickUrlSigner _signer;
    private readonly string _runId;
    private readonly List<PlannedClick>[] _recentValidByAd;
    private long _impressions;

    public Population(PopulationOptions options, ClickUrlSigner signer, string runId)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _signer = signer;
        _runId = runId;
        _random = new Random(options.Seed);
        _cdf = new double[options.Ads];
        double sum = 0;
        for (int i = 0; i < options.Ads; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, options.ZipfExponent);
            _cdf[i] = sum;
        }
        for (int i = 0; i < options.Ads; i++)
        {
            _cdf[i] /= sum;
        }
        _recentValidByAd = new List<PlannedClick>[options.Ads];
    }

    public static string AdvertiserOf(int ad, int advertisers, string prefix = "lg-adv-") => prefix + (ad % advertisers).ToString(CultureInfo.InvariantCulture);

    public PlannedClick Next()
    {
        int ad = PickAd();
        string adId = "ad-" + ad.ToString(CultureInfo.InvariantCulture);
        string advertiserId = AdvertiserOf(ad, _options.Advertisers, _options.AdvertiserPrefix);
        double roll = _random.NextDouble();
        if (roll < _options.DuplicateRate && _recentValidByAd[ad] is { Count: > 0 } earlier)
        {
            var original = earlier[_random.Next(earlier.Count)];
            return original with { Kind = ClickKind.Duplicate };
        }
        roll -= _options.DuplicateRate;
        string impression = string.Create(CultureInfo.InvariantCulture, $"{_runId}-{++_impressions}");
        string query = _signer.SignQuery(new ClickUrlFields(adId, advertiserId, _options.LandingUrl, "lg-cmp", impression));
        if (roll >= 0 && roll < _options.BotShare)
        {
            return new PlannedClick("/c?" + query, ClickKind.Bot, advertiserId, adId);
        }
        roll -= _options.BotShare;
        if (roll >= 0 && roll < _options.InvalidShare)
        {
            // Change a character in the middle of the signature (sig is the last parameter): still base64url, no
            // longer the MAC. (The last character would be a poor choice: two of its bits are spare.)
            int at = query.Length - 20;
            return new PlannedClick("/c?" + query[..at] + (query[at] == 'A' ? 'B' : 'A') + query[(at + 1)..], ClickKind.BadSignature, advertiserId, adId);
        }
        var click = new PlannedClick("/c?" + query, ClickKind.Valid, advertiserId, adId);
        var recent = _recentValidByAd[ad] ??= [];
        if (recent.Count < 8)
        {
            recent.Add(click);
        }
        else
        {
            recent[_random.Next(recent.Count)] = click;
        }
        return click;
    }

    private int PickAd()
    {
        int index = Array.BinarySearch(_cdf, _random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cdf.Length - 1);
    }
}
