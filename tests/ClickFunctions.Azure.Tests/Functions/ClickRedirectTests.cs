using System.Net;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Tests;
using ClickFunctions.Clicks;
using ClickFunctions.Functions;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The ClickRedirect function as the worker runs it (the app's host and DI, the shared handler), publishing through
/// the Event Hubs click log to a producer mocked through the SDK's seams.
/// </summary>
public sealed class ClickRedirectTests : IAsyncLifetime
{
    private readonly RecordingProducer _producer = new();
    private IHost _host = null!;

    public ValueTask InitializeAsync()
    {
        var builder = Program.CreateBuilder(AppSettings.AsArgs(AppSettings.Valid()));
        builder.Services.AddSingleton<EventHubProducerClient>(_producer);
        _host = builder.Build();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await ((IAsyncDisposable)_host).DisposeAsync();

    private string SignedQuery(string impression) =>
        "?" + _host.Services.GetRequiredService<ClickUrlSigner>().SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/landing", "cmp-1", impression));

    private async Task<HttpContext> Click(string query, DefaultHttpContext? context = null)
    {
        context ??= new DefaultHttpContext();
        context.RequestServices = _host.Services;
        context.Request.Method = "GET";
        context.Request.Path = "/c";
        context.Request.QueryString = new QueryString(query);
        context.Request.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
        context.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.23");
        context.Response.Body = new MemoryStream();
        // Awaited, so an exception of the handler fails the test instead of vanishing.
        await ClickRedirect.RunAsync(context.Request);
        return context;
    }

    /// <summary>A response that notes how many sends Event Hubs had acknowledged when the status code was set.</summary>
    private sealed class StatusWitness(RecordingProducer producer) : IHttpResponseFeature
    {
        private int _statusCode = StatusCodes.Status200OK;

        public int? SentWhenStatusSet { get; private set; }

        public int StatusCode
        {
            get => _statusCode;
            set
            {
                SentWhenStatusSet ??= producer.Sent.Count;
                _statusCode = value;
            }
        }

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

        public Stream Body { get; set; } = Stream.Null;

        public bool HasStarted => false;

        public void OnStarting(Func<object, Task> callback, object state)
        {
        }

        public void OnCompleted(Func<object, Task> callback, object state)
        {
        }
    }

    [Fact]
    public async Task A_signed_click_is_published_to_Event_Hubs_and_only_then_redirected()
    {
        _producer.Gate = new TaskCompletionSource();
        var witness = new StatusWitness(_producer);
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature());
        features.Set<IHttpResponseFeature>(witness);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var pending = Click(SignedQuery("imp-1"), new DefaultHttpContext(features));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_producer.SendsStarted == 0)
        {
            await Task.Delay(5, timeout.Token);
        }
        Assert.False(pending.IsCompleted); // no response while Event Hubs has not acknowledged
        Assert.Null(witness.SentWhenStatusSet);
        _producer.Gate.SetResult();
        var context = await pending;

        Assert.Equal(1, witness.SentWhenStatusSet); // the status was set only once the send was acknowledged

        Assert.Equal(302, context.Response.StatusCode);
        Assert.StartsWith("https://shop.example/landing?cf_click=", context.Response.Headers.Location.ToString(), StringComparison.Ordinal);
        var (partition, events) = Assert.Single(_producer.Sent);
        var click = ClickWireFormat.Decode(Assert.Single(events).EventBody.ToArray());
        Assert.Equal(ClickFunctions.Azure.EventHubs.ClickPartitions.IndexOf(click.ClickId, _producer.PartitionCount).ToString(System.Globalization.CultureInfo.InvariantCulture), partition);
        Assert.Equal("198.51.100.0", click.TruncatedIp);
    }

    [Fact]
    public async Task When_Event_Hubs_refuses_the_send_the_user_gets_503_with_Retry_After_and_no_Location()
    {
        _producer.Failure = new EventHubsException(true, "clicks", "unreachable", EventHubsException.FailureReason.ServiceCommunicationProblem);
        var context = await Click(SignedQuery("imp-2"));
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.False(context.Response.Headers.ContainsKey("Location"));
    }

    [Fact]
    public async Task A_tampered_click_is_refused_without_Location_and_nothing_is_published()
    {
        var context = await Click(SignedQuery("imp-3").Replace("shop.example", "evil.example", StringComparison.Ordinal));
        Assert.InRange(context.Response.StatusCode, 400, 499);
        Assert.False(context.Response.Headers.ContainsKey("Location"));
        Assert.Equal(0, _producer.SendsStarted);
    }

    [Fact]
    public async Task Browser_clicks_get_their_country_from_the_configured_MaxMind_database_and_device_os_browser_from_agent_and_hints()
    {
        // The Functions app with Geo:CountryDatabase (MaxMind's GeoLite2 test database) and a data-centre range, as the
        // app settings would configure them; the same acceptance clicks as the local host's ClickDimensionsTests.
        var settings = AppSettings.Valid();
        settings["Geo:CountryDatabase"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "geo", "GeoLite2-Country-Test.mmdb");
        settings["InvalidTraffic:DataCentreRanges:0"] = BrowserClicks.DataCentreRange;
        var producer = new RecordingProducer();
        var builder = Program.CreateBuilder(AppSettings.AsArgs(settings));
        builder.Services.AddSingleton<EventHubProducerClient>(producer);
        using var host = builder.Build();
        var signer = host.Services.GetRequiredService<ClickUrlSigner>();
        foreach (var c in BrowserClicks.Cases)
        {
            var context = new DefaultHttpContext { RequestServices = host.Services };
            context.Request.Method = "GET";
            context.Request.Path = "/c";
            context.Request.QueryString = new QueryString("?" + signer.SignQuery(new ClickUrlFields(c.Ad, "adv-1", "https://shop.example/landing", "cmp-1", "imp-" + c.Ad, Publisher: "news.example")));
            context.Request.Headers.UserAgent = c.Agent;
            foreach (var (name, value) in BrowserClicks.Hints(c))
            {
                context.Request.Headers[name] = value;
            }
            context.Connection.RemoteIpAddress = IPAddress.Parse(c.Ip);
            context.Response.Body = new MemoryStream();
            await ClickRedirect.RunAsync(context.Request);
            Assert.Equal(302, context.Response.StatusCode);
        }

        var published = producer.Sent.SelectMany(s => s.Events).Select(e => ClickWireFormat.Decode(e.EventBody.ToArray())).ToDictionary(c => c.AdId);
        foreach (var c in BrowserClicks.Cases)
        {
            var click = published[c.Ad];
            Assert.Equal((c.Country, c.Device, c.Os, c.Browser, c.Reason), (click.Dimensions.Country, click.Dimensions.Device, click.Dimensions.Os, click.Dimensions.Browser, click.Reason));
            Assert.Equal("news.example", click.Dimensions.Publisher);
            Assert.DoesNotContain(c.Ip, click.TruncatedIp, StringComparison.Ordinal);
        }
    }
}
