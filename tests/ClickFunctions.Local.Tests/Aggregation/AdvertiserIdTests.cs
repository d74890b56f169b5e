using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>
/// Issue 12 finding 2: advertiser ids are tenants, and .NET configuration keys ignore letter case (Configuration in
/// ASP.NET Core, "Configuration keys and values": "Keys are case-insensitive"), so <c>acme</c> and <c>ACME</c> would
/// merge into one advertiser whose key reads the other's ads. The real host must refuse to start, naming both.
/// </summary>
public sealed class AdvertiserIdTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-adv-ids-").FullName;

    [Fact]
    public async Task Two_environment_variables_for_acme_and_ACME_make_the_host_refuse_to_start_naming_both()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalHostProcess.StartAsync(_dataDirectory, environment: new Dictionary<string, string>
        {
            ["Advertisers__acme__ApiKey"] = "acme-key-0123456789",
            ["Advertisers__ACME__ApiKey"] = "other-key-0123456789",
        }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("'acme'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'ACME'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_appsettings_file_and_an_environment_variable_that_differ_in_case_make_the_host_refuse_to_start()
    {
        await File.WriteAllTextAsync(Path.Combine(_dataDirectory, "appsettings.json"),
            """{ "Advertisers": { "acme": { "ApiKey": "acme-key-0123456789" } } }""", TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalHostProcess.StartAsync(_dataDirectory, environment: new Dictionary<string, string>
        {
            ["Advertisers__Acme__ApiKey"] = "other-key-0123456789",
        }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("'acme'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'Acme'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_single_advertiser_id_with_capitals_is_refused_at_start_and_by_sign_and_on_the_click_path()
    {
        var ct = TestContext.Current.CancellationToken;
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalHostProcess.StartAsync(_dataDirectory, environment: new Dictionary<string, string>
        {
            ["Advertisers__Acme__ApiKey"] = "acme-key-0123456789",
        }, cancellationToken: ct));
        Assert.Contains("lower case", refused.Message, StringComparison.Ordinal);

        var keys = TestKeys.Create();
        var sign = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["sign", "--ad", "ad-1", "--advertiser", "ACME", "--url", "https://shop.example/", "--data-dir", _dataDirectory], ct,
            new Dictionary<string, string?> { ["ClickSigning__KeyId"] = keys.KeyId, ["ClickSigning__Key"] = keys.KeyBase64 });
        Assert.NotEqual(0, sign.ExitCode);
        Assert.Empty(sign.Stdout);
        Assert.Contains("lower case", sign.Stderr, StringComparison.Ordinal);

        // A URL signed by hand with the right key (the canonical string of docs/click-urls.md) for adv=ACME.
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, cancellationToken: ct);
        using var client = host.CreateClient();
        string canonical = string.Join('\n', "cf1", keys.KeyId, "ad-1", "ACME", "", "", "", "https://shop.example/");
        string sig = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(keys.KeyBase64), Encoding.UTF8.GetBytes(canonical)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var response = await client.GetAsync($"/c?ad=ad-1&adv=ACME&u=https%3A%2F%2Fshop.example%2F&kid={keys.KeyId}&sig={sig}", ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
