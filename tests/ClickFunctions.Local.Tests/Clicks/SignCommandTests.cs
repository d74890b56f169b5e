using System.Net;
using System.Text.Json;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace ClickFunctions.Tests.Clicks;

/// <summary>The <c>sign</c> command of the real executable.</summary>
public sealed class SignCommandTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-sign-").FullName;

    [Fact]
    public async Task Sign_with_count_prints_only_urls_with_numbered_impressions_that_the_host_redirects()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, cancellationToken: ct);

        var (exit, stdout, _) = await RunSignAsync(keys, ct, "--ad", "ad-7", "--advertiser", "adv-7", "--url", "https://shop.example/p?x=1",
            "--impression", "batch", "--count", "3", "--data-dir", _dataDirectory, "--base", host.BaseAddress.ToString());

        Assert.Equal(0, exit);
        var urls = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, urls.Length);
        Assert.Equal(["batch-1", "batch-2", "batch-3"], urls.Select(u => QueryHelpers.ParseQuery(new Uri(u).Query)["imp"].ToString()));
        using var client = host.CreateClient();
        foreach (var url in urls)
        {
            using var response = await client.GetAsync(new Uri(url), ct);
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal("https://shop.example/p?x=1", response.Headers.Location!.OriginalString);
        }
    }

    [Fact]
    public async Task Without_a_configured_key_sign_creates_the_development_key_in_the_data_directory_and_signs_with_it()
    {
        var ct = TestContext.Current.CancellationToken;

        var (exit, stdout, stderr) = await RunSignAsync(null, ct, "--ad", "ad-1", "--advertiser", "adv-1", "--url", "https://shop.example/", "--data-dir", _dataDirectory);

        Assert.Equal(0, exit);
        Assert.Contains("development key", stderr, StringComparison.Ordinal);
        string url = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("http://localhost:7071/c?", url, StringComparison.Ordinal);
        using var devKeys = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "dev-keys.json"), ct));
        var signer = new ClickUrlSigner(new SigningKeyRing(new SigningKey("dev", Convert.FromBase64String(devKeys.RootElement.GetProperty("signingKey").GetString()!))));
        var parameters = ClickEndpoints.ReadParameters(new Uri(url).Query);
        Assert.True(signer.Verify(parameters, DateTimeOffset.UtcNow).IsValid);
    }

    [Fact]
    public async Task Sign_refuses_a_landing_url_that_is_not_absolute_http_and_prints_no_url()
    {
        var (exit, stdout, stderr) = await RunSignAsync(TestKeys.Create(), TestContext.Current.CancellationToken,
            "--ad", "ad-1", "--advertiser", "adv-1", "--url", "javascript:alert(1)", "--data-dir", _dataDirectory);

        Assert.NotEqual(0, exit);
        Assert.Empty(stdout);
        Assert.Contains("landing URL", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunSignAsync(TestKeys? keys, CancellationToken cancellationToken, params string[] args)
    {
        var result = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["sign", .. args], cancellationToken, new Dictionary<string, string?>
        {
            ["ClickSigning__KeyId"] = keys?.KeyId,
            ["ClickSigning__Key"] = keys?.KeyBase64,
        });
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
