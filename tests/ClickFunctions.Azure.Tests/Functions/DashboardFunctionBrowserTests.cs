using System.Text;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Functions;
using ClickFunctions.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The dashboard as the Functions app serves it (Dashboard, DashboardFile), in Debian's headless Chromium: it signs
/// in with App Service authentication instead of a key. Playwright's routing stands in for the platform: /.auth/me
/// answers the session's identities as Easy Auth does, and /api/me goes to the app's real GetMe function with the
/// principal header Easy Auth injects for a signed-in user (the accounts table on Azurite). The listing and breakdown
/// calls are answered empty here: the numbers the page shows from them are the local dashboard test's subject.
/// </summary>
public sealed class DashboardFunctionBrowserTests(Azurite azurite) : IAsyncLifetime
{
    private const string Origin = "http://functions.test";
    private const string Principal = "11111111-1111-1111-1111-111111111111";
    private LoopbackKusto _adx = null!;
    private IHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _adx = await LoopbackKusto.StartAsync();
        _host = FunctionsAppHost.Build(_adx, azurite);
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)_host).DisposeAsync();
        await _adx.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_page_signs_in_with_the_platforms_session_and_offers_Microsoft_sign_in_when_there_is_none(bool signedIn)
    {
        var ct = TestContext.Current.CancellationToken;
        await HeadlessChromium.EnsureAsync(ct);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = HeadlessChromium.Path, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        var apiHeaders = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        var dashboard = new DashboardFunction();
        await page.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.GetLeftPart(UriPartial.Authority) != Origin)
            {
                await route.AbortAsync();
                return;
            }
            if (url.AbsolutePath.StartsWith("/api/", StringComparison.Ordinal))
            {
                lock (apiHeaders)
                {
                    apiHeaders.Add(route.Request.Headers.TryGetValue("authorization", out var a) ? a : "");
                }
            }
            var (status, type, body) = url.AbsolutePath switch
            {
                "/dashboard" => Result(dashboard.Page(new DefaultHttpContext().Request)),
                "/.auth/me" => signedIn
                    ? (200, "application/json", Encoding.UTF8.GetBytes($$"""[{"provider_name":"aad","user_id":"someone@example.com","user_claims":[{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"{{Principal}}"}]}]"""))
                    : (401, "text/plain", []),
                "/api/me" => await GetMeAsync(signedIn),
                var p when p.StartsWith("/dashboard/", StringComparison.Ordinal) => Result(dashboard.File(new DefaultHttpContext().Request, p["/dashboard/".Length..])),
                var p when p.EndsWith("/ads", StringComparison.Ordinal) => (200, "application/json", Encoding.UTF8.GetBytes("""{"advertiserId":"adv-1","ads":[],"nextCursor":null}""")),
                var p when p.EndsWith("/breakdown", StringComparison.Ordinal) => (200, "application/json", Encoding.UTF8.GetBytes("""{"by":"country","advertiserId":"adv-1","rows":[]}""")),
                _ => (404, "text/plain", Array.Empty<byte>()),
            };
            await route.FulfillAsync(new RouteFulfillOptions { Status = status, ContentType = type, BodyBytes = body });
        });

        await page.GotoAsync(Origin + "/dashboard");
        if (signedIn)
        {
            await page.WaitForFunctionAsync("() => !document.getElementById('board').hidden", null, new PageWaitForFunctionOptions { Timeout = 15_000 });
            Assert.Equal("adv-1", await page.InnerTextAsync("#who"));
            Assert.True(await page.IsHiddenAsync("#signin"));
            // No key anywhere: the session's cookie is the credential.
            Assert.NotEmpty(apiHeaders);
            Assert.All(apiHeaders, h => Assert.Equal("", h));
        }
        else
        {
            await page.WaitForFunctionAsync("() => !document.getElementById('platform-signin').hidden", null, new PageWaitForFunctionOptions { Timeout = 15_000 });
            Assert.True(await page.IsHiddenAsync("#key-signin"));
            Assert.True(await page.IsHiddenAsync("#board"));
            Assert.Equal("/.auth/login/aad?post_login_redirect_uri=/dashboard", await page.GetAttributeAsync("#platform-signin a", "href"));
        }
        Assert.Empty(errors);
    }

    private async Task<(int, string, byte[])> GetMeAsync(bool signedIn)
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/api/me";
        if (signedIn)
        {
            context.Request.Headers[AdvertiserPrincipals.PrincipalIdHeader] = Principal;
        }
        var body = new MemoryStream();
        context.Response.Body = body;
        await new GetMe().RunAsync(context.Request);
        return (context.Response.StatusCode, "application/json", body.ToArray());
    }

    private static (int, string, byte[]) Result(IActionResult result) => result switch
    {
        ContentResult content => (content.StatusCode ?? 200, content.ContentType!, Encoding.UTF8.GetBytes(content.Content!)),
        PhysicalFileResult file => (200, file.ContentType, File.ReadAllBytes(file.FileName)),
        _ => (404, "text/plain", []),
    };
}
