using System.Text;
using System.Text.Json;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Functions;
using ClickFunctions.Azure.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The query functions (GetAdClicks, ListAdvertiserAds) as the worker runs them: resolved from the app's host, with an HttpContext carrying the
/// Easy Auth headers, answering from ADX (the loopback server).
/// </summary>
public sealed class QueryFunctionsTests(Azurite azurite) : IAsyncLifetime
{
    private const string Principal = "11111111-1111-1111-1111-111111111111";
    private LoopbackKusto _adx = null!;
    private IHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _adx = await LoopbackKusto.StartAsync();
        // An unmapped principal is looked up in the accounts table (decision 078): a real one, on Azurite.
        _host = FunctionsAppHost.Build(_adx, azurite);
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)_host).DisposeAsync();
        await _adx.DisposeAsync();
    }

    private async Task<(int Status, string Body)> Get(string resource, string id, string collection, string query, Action<IHeaderDictionary>? headers = null)
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        context.Request.Method = "GET";
        context.Request.Path = $"/api/{resource}/{id}/{collection}";
        context.Request.QueryString = new QueryString(query);
        headers?.Invoke(context.Request.Headers);
        var body = new MemoryStream();
        context.Response.Body = body;
        await ((resource, collection) switch
        {
            ("ads", "clicks") => ActivatorUtilities.CreateInstance<GetAdClicks>(_host.Services).RunAsync(context.Request, id),
            ("advertisers", "ads") => ActivatorUtilities.CreateInstance<ListAdvertiserAds>(_host.Services).RunAsync(context.Request, id),
            _ => throw new ArgumentException($"no function serves /api/{resource}/{id}/{collection}"),
        });
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static void AsAdvertiser(IHeaderDictionary headers) => headers[AdvertiserPrincipals.PrincipalIdHeader] = Principal;

    [Fact]
    public async Task Without_an_Easy_Auth_principal_the_answer_is_401_and_ADX_is_not_asked()
    {
        var (status, _) = await Get("ads", "ad-1", "clicks", "?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z&granularity=minute");
        Assert.Equal(401, status);
        Assert.Empty(_adx.Requests);
    }

    [Fact]
    public async Task A_principal_that_is_no_advertiser_gets_401()
    {
        var (status, _) = await Get("ads", "ad-1", "clicks", "?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z&granularity=minute",
            h => h[AdvertiserPrincipals.PrincipalIdHeader] = "99999999-9999-9999-9999-999999999999");
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task The_principal_from_the_encoded_client_principal_header_is_mapped_too()
    {
        string json = $$"""{"auth_typ":"aad","claims":[{"typ":"name","val":"x"},{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"{{Principal}}"}]}""";
        var headers = new HeaderDictionary { [AdvertiserPrincipals.PrincipalHeader] = Convert.ToBase64String(Encoding.UTF8.GetBytes(json)) };
        Assert.Equal(Principal, AdvertiserPrincipals.PrincipalId(headers));
    }

    [Fact]
    public async Task Another_advertisers_listing_answers_404_without_asking_ADX()
    {
        var (status, _) = await Get("advertisers", "adv-2", "ads", "?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z", AsAdvertiser);
        Assert.Equal(404, status);
        Assert.Empty(_adx.Requests);
    }

    [Fact]
    public async Task Misaligned_ranges_get_a_400_problem_saying_so()
    {
        var (status, body) = await Get("ads", "ad-1", "clicks", "?from=2026-11-29T10:00:30Z&to=2026-11-29T11:00:00Z&granularity=minute", AsAdvertiser);
        Assert.Equal(400, status);
        Assert.Contains("aligned", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owned_ad_answers_with_the_shared_contract_from_ADX_for_the_mapped_advertiser()
    {
        (string, string)[] columns = [("Kind", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"),
            .. ClickFunctions.Azure.Kusto.KustoBucketQueries.ReasonColumns.Select(c => (c.Column, "long"))];
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(columns,
            ["minute", "2026-11-29T10:05:00.0000000Z", 3, 1, 1, 0, 0, 0, 0, 0, 0, 0], ["known", "2026-11-29T00:00:00.0000000Z", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            r => JsonDocument.Parse(r.Body).RootElement.GetProperty("properties").GetProperty("Parameters").GetProperty("advertiserId").GetString() == "adv-1" ? null : "not scoped to adv-1");
        var (status, body) = await Get("ads", "ad-1", "clicks", "?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z&granularity=minute", AsAdvertiser);
        Assert.Empty(_adx.Mismatches);
        Assert.Equal(200, status);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("adv-1", json.GetProperty("advertiserId").GetString());
        Assert.Equal(3, json.GetProperty("total").GetProperty("clicks").GetInt64());
        Assert.Equal("2026-11-29T10:05:00Z", json.GetProperty("buckets")[0].GetProperty("start").GetString());
        Assert.Equal(1, json.GetProperty("buckets")[0].GetProperty("invalidByReason").GetProperty("bot_user_agent").GetInt64());
    }

    [Fact]
    public async Task GetMe_names_the_mapped_advertiser_and_refuses_a_caller_without_a_principal()
    {
        async Task<(int Status, string Body)> Me(Action<IHeaderDictionary>? headers, string query = "")
        {
            var context = new DefaultHttpContext { RequestServices = _host.Services };
            context.Request.Method = "GET";
            context.Request.Path = "/api/me";
            context.Request.QueryString = new QueryString(query);
            headers?.Invoke(context.Request.Headers);
            var body = new MemoryStream();
            context.Response.Body = body;
            await new GetMe().RunAsync(context.Request);
            return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
        }

        Assert.Equal(401, (await Me(null)).Status);
        var (status, body) = await Me(AsAdvertiser);
        Assert.Equal(200, status);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("adv-1", json.GetProperty("advertiserId").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("timeZone").ValueKind);
        var (unknown, problem) = await Me(AsAdvertiser, "?limt=3");
        Assert.Equal(400, unknown);
        Assert.Contains("limt", problem, StringComparison.Ordinal);
        Assert.Empty(_adx.Requests);
    }
}
