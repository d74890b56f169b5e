using System.Diagnostics.Metrics;
using System.Net;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Signing;
using ClickFunctions.Tests.Signing;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Clicks;

public class ClickCaptureTests
{
    private static readonly SigningKeyRing Keys = new(new SigningKey("k1", new byte[32]));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 30, TimeSpan.Zero));
    private readonly RecordingLog _log = new();

    private ClickCapture Capture(string? clickIdParameter = null) => new(
        new ClickUrlSigner(Keys), new FingerprintHasher(new byte[16]), _log, _time,
        new ClickCaptureOptions { ClickIdParameter = clickIdParameter }, new ClickMetrics(new TestMeterFactory()));

    private static ClickUrlParameters Signed(ClickUrlFields fields) => ClickQueries.Parse(new ClickUrlSigner(Keys).SignQuery(fields));

    private static readonly ClickRequest Browser = new("GET", "Mozilla/5.0", "https://news.example/article?id=1", IPAddress.Parse("203.0.113.99"), null);

    [Fact]
    public async Task A_valid_click_is_appended_to_the_log_before_the_redirect_is_returned()
    {
        var result = await Capture().CaptureAsync(Browser, Signed(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/p", "cmp-1", "imp-1")), TestContext.Current.CancellationToken);

        Assert.Equal("https://shop.example/p", result.Location);
        var click = Assert.Single(_log.Appended);
        Assert.Equal(result.Click, click);
        Assert.Equal(ClickId.FromImpression("adv-1", "ad-1", "imp-1"), click.ClickId);
        Assert.Equal(("ad-1", "adv-1", "cmp-1", ClickReason.Valid), (click.AdId, click.AdvertiserId, click.CampaignId, click.Reason));
        Assert.Equal("news.example", click.ReferrerHost);
        Assert.Equal("203.0.113.0", click.TruncatedIp);
        Assert.Equal(_time.GetUtcNow(), click.Timestamp);
    }

    [Fact]
    public async Task No_redirect_is_returned_when_the_log_cannot_make_the_click_durable()
    {
        _log.Failure = new IOException("disk full");

        await Assert.ThrowsAsync<IOException>(async () =>
            await Capture().CaptureAsync(Browser, Signed(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/p")), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_rejected_click_is_neither_logged_nor_redirected()
    {
        var parameters = Signed(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/p")) with { Url = "https://evil.example/" };

        var result = await Capture().CaptureAsync(Browser, parameters, TestContext.Current.CancellationToken);

        Assert.Null(result.Location);
        Assert.Equal(VerificationStatus.BadSignature, result.Status);
        Assert.Empty(_log.Appended);
    }

    [Theory]
    [InlineData("https://shop.example/p", "https://shop.example/p?cf_click={0}")]
    [InlineData("https://shop.example/p?a=1", "https://shop.example/p?a=1&cf_click={0}")]
    [InlineData("https://shop.example/p?a=1#top", "https://shop.example/p?a=1&cf_click={0}#top")]
    public async Task The_click_id_is_passed_through_to_the_landing_url_when_configured(string landing, string expected)
    {
        var result = await Capture("cf_click").CaptureAsync(Browser, Signed(new ClickUrlFields("ad-1", "adv-1", landing, ImpressionId: "i")), TestContext.Current.CancellationToken);

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, result.Click!.ClickId), result.Location);
    }

    [Fact]
    public async Task A_head_request_redirects_but_is_recorded_as_invalid()
    {
        var result = await Capture().CaptureAsync(Browser with { Method = "HEAD" }, Signed(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/p")), TestContext.Current.CancellationToken);

        Assert.NotNull(result.Location);
        Assert.Equal(ClickReason.HeadRequest, Assert.Single(_log.Appended).Reason);
    }

    [Fact]
    public async Task Two_clicks_by_one_user_on_one_ad_within_a_minute_share_a_click_id()
    {
        var parameters = Signed(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/p"));
        var capture = Capture();

        await capture.CaptureAsync(Browser, parameters, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(20));
        await capture.CaptureAsync(Browser, parameters, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(20));
        await capture.CaptureAsync(Browser, parameters, TestContext.Current.CancellationToken);

        Assert.Equal(_log.Appended[0].ClickId, _log.Appended[1].ClickId);
        Assert.NotEqual(_log.Appended[1].ClickId, _log.Appended[2].ClickId);
    }

    private sealed class RecordingLog : IClickLog
    {
        public List<ClickEvent> Appended { get; } = [];

        public Exception? Failure { get; set; }

        public ValueTask AppendAsync(ClickEvent click, CancellationToken cancellationToken)
        {
            if (Failure is not null)
            {
                return ValueTask.FromException(Failure);
            }
            Appended.Add(click);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
