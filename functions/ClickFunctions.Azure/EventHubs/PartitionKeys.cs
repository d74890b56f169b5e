using System.Globalization;
using ClickFunctions.Clicks;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>
/// Partition key = ad id, so an ad's clicks (and so its duplicates) meet in one partition. A hot ad would overload
/// one partition, so its key gets a salt: a few low bits of the click id. The salt depends only on the click id, so a
/// double click or a re-sent event still lands in the same partition as the original (docs/architecture.md, invariant 3).
/// </summary>
public sealed class PartitionKeys(EventHubClickLogOptions options, TimeProvider time)
{
    private readonly HashSet<string> _configuredHot = new(options.HotAds, StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private HashSet<string> _measuredHot = new(StringComparer.Ordinal);
    private long _windowStart = time.GetTimestamp();

    public string For(ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        return IsHot(click.AdId) ? Salted(click.AdId, click.ClickId, options.SaltBits) : click.AdId;
    }

    public static string Salted(string adId, ClickId clickId, int saltBits)
    {
        int salt = (int)(clickId.Value & (UInt128)((1 << saltBits) - 1));
        return adId + "#" + salt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Counts the click towards its ad's rate and says whether the ad is hot now.</summary>
    public bool IsHot(string adId)
    {
        if (_configuredHot.Contains(adId))
        {
            return true;
        }
        lock (_gate)
        {
            var elapsed = time.GetElapsedTime(_windowStart);
            if (elapsed >= options.HotAdWindow)
            {
                RollWindow(elapsed);
            }
            if (_counts.TryGetValue(adId, out int count))
            {
                _counts[adId] = count + 1;
            }
            else if (_counts.Count < options.MaxTrackedAds)
            {
                _counts[adId] = 1;
            }
            return _measuredHot.Contains(adId);
        }
    }

    private void RollWindow(TimeSpan elapsed)
    {
        double limit = options.HotAdClicksPerSecond * elapsed.TotalSeconds;
        var hot = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (ad, count) in _counts)
        {
            if (count > limit)
            {
                hot.Add(ad);
            }
        }
        _measuredHot = hot;
        _counts = new Dictionary<string, int>(StringComparer.Ordinal);
        _windowStart = time.GetTimestamp();
    }
}
