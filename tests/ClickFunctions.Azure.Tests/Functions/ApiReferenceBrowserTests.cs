using System.Text;
using ClickFunctions.Functions;
using ClickFunctions.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Playwright;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The Functions app's API reference as a person sees it: Debian's headless Chromium (Playwright, the system browser)
/// loads /scalar, every request answered by the app's own functions (ApiReference, ApiReferenceScript,
/// OpenApiDocument) through Playwright's routing, anything else refused, so the page works with no network at all.
/// </summary>
public sealed class ApiReferenceBrowserTests
{
    private const string Origin = "http://functions.test";

    [Fact]
    public async Task The_reference_renders_the_apps_document_offline_without_console_errors()
    {
        var ct = TestContext.Current.CancellationToken;
        await HeadlessChromium.EnsureAsync(ct);
        var function = new ApiReferenceFunction();
        string document = await ApiDocument.JsonAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = HeadlessChromium.Path, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        await page.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.GetLeftPart(UriPartial.Authority) != Origin)
            {
                lock (refused)
                {
                    refused.Add(route.Request.Url);
                }
                await route.AbortAsync();
                return;
            }
            var (status, type, body) = url.AbsolutePath switch
            {
                "/scalar" => Content(function.Reference(new DefaultHttpContext().Request)),
                "/scalar/scalar.js" => File(function.Script(new DefaultHttpContext().Request)),
                "/openapi/v1.json" => (200, "application/json", Encoding.UTF8.GetBytes(document)),
                _ => (404, "text/plain", []),
            };
            await route.FulfillAsync(new RouteFulfillOptions { Status = status, ContentType = type, BodyBytes = body });
        });

        await page.GotoAsync(Origin + "/scalar");
        // Scalar lists the document's operations: one of the query API's paths and the document's title appear.
        await page.WaitForFunctionAsync("() => document.body.innerText.includes('/api/ads/{adId}/clicks')", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        string text = await page.InnerTextAsync("body");
        Assert.Contains("/api/advertisers/{advertiserId}/breakdown", text, StringComparison.Ordinal);
        Assert.Empty(errors);
        Assert.Empty(refused);
    }

    private static (int, string, byte[]) Content(IActionResult result)
    {
        var content = Assert.IsType<ContentResult>(result);
        return (content.StatusCode ?? 200, content.ContentType!, Encoding.UTF8.GetBytes(content.Content!));
    }

    private static (int, string, byte[]) File(IActionResult result)
    {
        var file = Assert.IsType<FileContentResult>(result);
        return (200, file.ContentType, file.FileContents);
    }
}
