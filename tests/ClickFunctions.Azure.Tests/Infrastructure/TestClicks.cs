using System.Diagnostics.Metrics;
using ClickFunctions.Clicks;
using Microsoft.Extensions.DependencyInjection;

namespace ClickFunctions.Azure.Tests.Infrastructure;

public static class TestClicks
{
    public static readonly DateTimeOffset Noon = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public static ClickEvent Make(string adId, string impression, DateTimeOffset? at = null, string advertiserId = "adv-1", ClickReason reason = ClickReason.Valid) =>
        new(ClickId.FromImpression(advertiserId, adId, impression), at ?? Noon, adId, advertiserId, "cmp-1", reason, "news.example", "203.0.113.0", new Fingerprint(42));

    /// <summary>
    /// A clock that reads <see cref="Noon"/> plus <paramref name="after"/> but waits in real time (retry backoffs
    /// elapse), so stores that expire data by the clock treat the test clicks as current on any day the tests run.
    /// </summary>
    public static TimeProvider Clock(TimeSpan? after = null) => new FixedNow(Noon + (after ?? TimeSpan.FromMinutes(1)));

    private sealed class FixedNow(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    public static IMeterFactory Meters() => new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static AzureClickMetrics Metrics() => new(Meters());

    /// <summary>The aggregator's retry budget with millisecond backoff, so retry tests run fast.</summary>
    public static Aggregation.AggregationRetryOptions FastRetries() => new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
    };
}
