using System.Net;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests.Clicks;

/// <summary>The /c endpoint of the real local host, over HTTP.</summary>
public sealed class ClickRedirectTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-redirect-").FullName;
    private LocalHostProcess _host = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await LocalHostProcess.StartAsync(_dataDirectory, cancellationToken: TestContext.Current.CancellationToken);
        _client = _host.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private string Signed(string landing = "https://shop.example/p?x=1", DateTimeOffset? expires = null) =>
        _host.Keys.ClickPath(new ClickUrlFields("ad-1", "adv-1", landing, "cmp-1", "imp-" + Guid.NewGuid().ToString("N")[..8], expires));

    [Fact]
    public async Task A_signed_click_url_answers_302_to_its_landing_url_without_caching()
    {
        using var response = await _client.GetAsync(Signed(), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("https://shop.example/p?x=1", response.Headers.Location!.OriginalString);
        Assert.True(response.Headers.CacheControl!.NoStore);
    }

    [Fact]
    public async Task A_head_request_is_redirected_too()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Signed());
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.NotNull(response.Headers.Location);
    }

    public static TheoryData<string, HttpStatusCode> BadQueries() => new()
    {
        { "", HttpStatusCode.BadRequest },
        { "u=https://evil.example/", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=https%3A%2F%2Fevil.example%2F", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=%2F%2Fevil.example&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=https:evil.example&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { @"ad=ad-1&adv=adv-1&u=%5C%5Cevil.example&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=https%3A%2F%2Ftrusted%40evil.example&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=https%3A%2F%2Fexample.com%2F%0D%0ALocation%3A%20https%3A%2F%2Fevil.example&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=javascript%3Aalert(1)&kid=test-1&sig=AAAA", HttpStatusCode.BadRequest },
        { "ad=ad-1&adv=adv-1&u=https%3A%2F%2Fevil.example%2F&kid=test-1&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HttpStatusCode.Forbidden },
        { "ad=ad-1&adv=adv-1&u=https%3A%2F%2Fevil.example%2F&kid=nobody&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task Unsigned_or_forged_click_urls_get_a_4xx_with_no_location(string query, HttpStatusCode expected)
    {
        using var response = await _client.GetAsync("/c?" + query, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.StartsWith("Invalid click URL:", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    public static TheoryData<string> Tamperings() =>
    [
        "u=https%3A%2F%2Fevil.example%2F",
        "u=%2F%2Fevil.example",
        "u=https%3Aevil.example",
        "u=%5C%5Cevil.example",
        "u=https%3A%2F%2Fshop.example%40evil.example",
        "u=javascript%3Aalert(document.cookie)",
        "ad=ad-2",
        "adv=adv-2",
        "cmp=cmp-2",
    ];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_signed_url_with_a_changed_parameter_gets_a_4xx_with_no_location(string replacement)
    {
        string name = replacement[..replacement.IndexOf('=', StringComparison.Ordinal)];
        var parts = Signed().Split('?', 2)[1].Split('&').Select(p => p.StartsWith(name + "=", StringComparison.Ordinal) ? replacement : p);

        using var response = await _client.GetAsync("/c?" + string.Join('&', parts), TestContext.Current.CancellationToken);

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task A_second_landing_url_appended_to_a_signed_url_is_refused()
    {
        using var response = await _client.GetAsync(Signed() + "&u=https%3A%2F%2Fevil.example%2F", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task An_expired_click_url_answers_410_with_no_location()
    {
        using var response = await _client.GetAsync(Signed(expires: DateTimeOffset.UtcNow.AddMinutes(-1)), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Recorded_and_rejected_clicks_show_on_the_metrics_endpoint_and_the_log_on_the_health_endpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var click = new HttpRequestMessage(HttpMethod.Get, Signed()))
        {
            click.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0");
            using var redirected = await _client.SendAsync(click, ct);
            Assert.Equal(HttpStatusCode.Found, redirected.StatusCode);
        }
        using (await _client.GetAsync("/c?ad=x", ct))
        {
        }

        string metrics = "";
        for (int attempt = 0; attempt < 50 && !(metrics.Contains("clicks_recorded_total", StringComparison.Ordinal) && metrics.Contains("clicks_rejected_total{", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(200, ct);
            metrics = await _client.GetStringAsync("/metrics", ct);
        }
        Assert.Matches(@"clicks_recorded_total(\{[^}]*\})? 1", metrics);
        Assert.Matches(@"clicks_rejected_total\{[^}]*reason=""not_signed""[^}]*\} 1", metrics);
        Assert.Contains("http_server_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);

        string health = await _client.GetStringAsync("/healthz", ct);
        Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);
        Assert.Contains("\"nextSequence\":1", health, StringComparison.Ordinal);
    }

    // Issue 12 finding 8: the contract of docs/click-urls.md, exactly. ASP.NET Core's query collection and routing
    // ignore letter case; a signed format should not.
    [Theory]
    [InlineData("ad")]
    [InlineData("adv")]
    [InlineData("u")]
    [InlineData("sig")]
    public async Task A_click_parameter_name_in_another_letter_case_is_not_that_parameter(string name)
    {
        string renamed = char.ToUpperInvariant(name[0]) + name[1..];
        var parts = Signed().Split('?', 2)[1].Split('&').Select(p => p.StartsWith(name + "=", StringComparison.Ordinal) ? renamed + p[name.Length..] : p);

        using var response = await _client.GetAsync("/c?" + string.Join('&', parts), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task An_exp_with_leading_zeros_is_malformed_even_when_that_text_was_signed()
    {
        // Signed by hand over the canonical string of docs/click-urls.md, so the signature matches the text sent.
        long exp = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds();
        string expText = "00" + exp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string canonical = string.Join('\n', "cf1", _host.Keys.KeyId, "ad-1", "adv-1", "", "", expText, "https://shop.example/");
        string sig = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(Convert.FromBase64String(_host.Keys.KeyBase64), System.Text.Encoding.UTF8.GetBytes(canonical)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string query = $"ad=ad-1&adv=adv-1&exp={expText}&u=https%3A%2F%2Fshop.example%2F&kid={_host.Keys.KeyId}&sig={sig}";

        using var response = await _client.GetAsync("/c?" + query, TestContext.Current.CancellationToken);
        using var withoutZeros = await _client.GetAsync("/c?" + _host.Keys.Signer().SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://shop.example/", ExpiresAt: DateTimeOffset.FromUnixTimeSeconds(exp))), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal(HttpStatusCode.Found, withoutZeros.StatusCode);
    }

    [Theory]
    [InlineData("get", "405")]
    [InlineData("Head", "405")]
    [InlineData("GET", "302")]
    public async Task Method_names_are_case_sensitive(string method, string expectedStatus)
    {
        // HttpClient normalises method names, so this request goes over a raw socket.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_host.BaseAddress.Host, _host.BaseAddress.Port, TestContext.Current.CancellationToken);
        await using var stream = tcp.GetStream();
        byte[] request = System.Text.Encoding.ASCII.GetBytes($"{method} {Signed()} HTTP/1.1\r\nHost: {_host.BaseAddress.Authority}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        string statusLine = await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? "";
        string rest = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("HTTP/1.1 " + expectedStatus, statusLine, StringComparison.Ordinal);
        Assert.Equal(expectedStatus == "302", rest.Contains("Location:", StringComparison.OrdinalIgnoreCase));
    }
}
