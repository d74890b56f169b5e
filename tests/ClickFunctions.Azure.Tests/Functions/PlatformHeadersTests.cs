using System.Net;
using System.Text;
using Azure.Core;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Functions;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// Headers the platform's front end sets, trusted only as far as the platform says it set them (issue 11, findings 5
/// and 6): X-Forwarded-For on the platform (WEBSITE_SITE_NAME), its right-most entry only; X-MS-CLIENT-PRINCIPAL*
/// only when App Service authentication is on (WEBSITE_AUTH_ENABLED=True).
/// </summary>
public sealed class PlatformHeadersTests
{
    private static async Task<IHost> HostAsync(Action<Dictionary<string, string>> configure, Action<IServiceCollection>? services = null)
    {
        var settings = AppSettings.Valid();
        configure(settings);
        var builder = Program.CreateBuilder(AppSettings.AsArgs(settings));
        services?.Invoke(builder.Services);
        return await Task.FromResult(builder.Build());
    }

    private static async Task<ClickEvent> PublishedClickAsync(bool onPlatform, string? forwardedFor)
    {
        var producer = new RecordingProducer();
        var host = await HostAsync(s =>
        {
            if (onPlatform)
            {
                s["WEBSITE_SITE_NAME"] = "func-clicks-test";
            }
        }, services => services.AddSingleton<EventHubProducerClient>(producer));
        try
        {
            var context = new DefaultHttpContext { RequestServices = host.Services };
            context.Request.Method = "GET";
            context.Request.Path = "/c";
            // No impression id: the click id comes from ad + fingerprint (which includes the address) + minute.
            context.Request.QueryString = new QueryString("?" + host.Services.GetRequiredService<ClickUrlSigner>().SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/landing", "cmp-1", null)));
            context.Request.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
            if (forwardedFor is not null)
            {
                context.Request.Headers["X-Forwarded-For"] = forwardedFor;
            }
            // In the isolated worker the peer is the Functions host on the same instance.
            context.Connection.RemoteIpAddress = IPAddress.Loopback;
            context.Response.Body = new MemoryStream();
            await ClickRedirect.RunAsync(context.Request);
            Assert.Equal(302, context.Response.StatusCode);
            return ClickWireFormat.Decode(Assert.Single(Assert.Single(producer.Sent).Events).EventBody.ToArray());
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    [Fact]
    public async Task On_the_platform_the_click_address_is_the_right_most_forwarded_entry_not_the_one_the_client_wrote()
    {
        // The client claims 6.6.6.6; the front end appended the real peer with its port; the host hop is loopback.
        var click = await PublishedClickAsync(onPlatform: true, "6.6.6.6, 198.51.100.77:50123, 127.0.0.1");
        Assert.Equal("198.51.100.0", click.TruncatedIp);
    }

    [Fact]
    public async Task Two_users_behind_the_same_front_end_are_two_clicks_not_one_click_and_a_duplicate()
    {
        var first = await PublishedClickAsync(onPlatform: true, "198.51.100.77:50123");
        var second = await PublishedClickAsync(onPlatform: true, "203.0.113.9:40000");
        Assert.NotEqual(first.ClickId, second.ClickId);
    }

    [Fact]
    public async Task Off_the_platform_a_forwarded_header_is_not_trusted()
    {
        var click = await PublishedClickAsync(onPlatform: false, "198.51.100.77");
        Assert.NotEqual("198.51.100.0", click.TruncatedIp);
        Assert.Equal((await PublishedClickAsync(onPlatform: false, null)).TruncatedIp, click.TruncatedIp);
    }

    [Theory]
    [InlineData("203.0.113.5", "203.0.113.5")]
    [InlineData("203.0.113.5:443", "203.0.113.5")]
    [InlineData("[2001:db8::7]:443", "2001:db8::7")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    [InlineData("10.1.1.1, 203.0.113.5:1234", "203.0.113.5")]
    [InlineData("203.0.113.5, 127.0.0.1, ::1", "203.0.113.5")]
    [InlineData("203.0.113.5, not-an-address", null)]
    [InlineData("127.0.0.1", null)]
    public void The_right_most_entry_is_parsed_with_or_without_a_port(string header, string? expected)
    {
        Assert.Equal(expected, PlatformClientAddress.RightMost(header)?.ToString());
    }

    [Theory]
    [InlineData(null, 401)]
    [InlineData("False", 401)]
    [InlineData("True", 200)]
    [InlineData("true", 200)]
    public async Task Principal_headers_count_only_when_the_platform_says_authentication_is_on(string? authEnabled, int expected)
    {
        await using var adx = await LoopbackKusto.StartAsync();
        var host = await HostAsync(s =>
        {
            s["Kusto:ClusterUri"] = adx.BaseAddress.ToString();
            s.Remove("WEBSITE_AUTH_ENABLED");
            if (authEnabled is not null)
            {
                s["WEBSITE_AUTH_ENABLED"] = authEnabled;
            }
        }, services => services.AddSingleton<TokenCredential>(adx.Credential));
        try
        {
            adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(
                [("Kind", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), .. ClickFunctions.Azure.Kusto.KustoBucketQueries.ReasonColumns.Select(c => (c.Column, "long"))],
                ["known", "2026-11-29T00:00:00.0000000Z", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
            var context = new DefaultHttpContext { RequestServices = host.Services };
            context.Request.Method = "GET";
            context.Request.Path = "/api/ads/ad-1/clicks";
            context.Request.QueryString = new QueryString("?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z&granularity=minute");
            context.Request.Headers[AdvertiserPrincipals.PrincipalIdHeader] = "11111111-1111-1111-1111-111111111111";
            context.Response.Body = new MemoryStream();
            var function = ActivatorUtilities.CreateInstance<GetAdClicks>(host.Services);
            await function.RunAsync(context.Request, "ad-1");
            Assert.True(expected == context.Response.StatusCode, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }
}
