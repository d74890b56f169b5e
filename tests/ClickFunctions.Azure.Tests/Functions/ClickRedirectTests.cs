using System.Net;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Functions;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Http;
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

    private Task<HttpContext> Click(string query)
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/c";
        context.Request.QueryString = new QueryString(query);
        context.Request.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
        context.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.23");
        context.Response.Body = new MemoryStream();
        return ClickRedirect.RunAsync(context.Request).ContinueWith(_ => (HttpContext)context, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_signed_click_is_published_to_Event_Hubs_and_only_then_redirected()
    {
        _producer.Gate = new TaskCompletionSource();
        var pending = Click(SignedQuery("imp-1"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_producer.SendsStarted == 0)
        {
            await Task.Delay(5, timeout.Token);
        }
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted); // no response while Event Hubs has not acknowledged
        _producer.Gate.SetResult();
        var context = await pending;

        Assert.Equal(302, context.Response.StatusCode);
        Assert.StartsWith("https://shop.example/landing?cf_click=", context.Response.Headers.Location.ToString(), StringComparison.Ordinal);
        var (key, events) = Assert.Single(_producer.Sent);
        Assert.Equal("ad-1", key);
        var click = ClickWireFormat.Decode(Assert.Single(events).EventBody.ToArray());
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
}
