using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Data.Tables;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The Functions app's admin API as the worker runs it: the functions resolved from the app's host, the accounts
/// table on a real Azurite, the Easy Auth headers as App Service passes them (only honoured with WEBSITE_AUTH_ENABLED,
/// decision 067), and the query functions resolving the mapped principal or the issued key against ADX (the loopback server).
/// </summary>
public sealed class AdminFunctionsTests(Azurite azurite) : IAsyncLifetime
{
    private const string AdminObjectId = "aaaaaaaa-0000-0000-0000-000000000001";
    private const string RoleHolder = "aaaaaaaa-0000-0000-0000-000000000002";
    private const string Nobody = "aaaaaaaa-0000-0000-0000-000000000003";
    private const string NewPrincipal = "BBBBBBBB-0000-0000-0000-000000000009";
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private readonly FixedNow _clock = new(Start);
    private LoopbackKusto _adx = null!;
    private IHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _adx = await LoopbackKusto.StartAsync();
        _host = Build(platformAuth: true);
        await Task.CompletedTask;
    }

    private IHost Build(bool platformAuth)
    {
        var settings = AppSettings.Valid();
        settings["Kusto:ClusterUri"] = _adx.BaseAddress.ToString();
        settings["Accounts:TableName"] = "accounts" + Guid.NewGuid().ToString("N")[..12];
        settings["Admin:PrincipalIds"] = AdminObjectId;
        settings["WEBSITE_AUTH_ENABLED"] = platformAuth ? "True" : "False";
        var builder = Program.CreateBuilder(AppSettings.AsArgs(settings));
        builder.Services.AddSingleton<TokenCredential>(_adx.Credential);
        builder.Services.AddSingleton<TableServiceClient>(azurite.Tables());
        builder.Services.AddSingleton<TimeProvider>(_clock);
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)_host).DisposeAsync();
        await _adx.DisposeAsync();
    }

    /// <summary>X-MS-CLIENT-PRINCIPAL as Easy Auth encodes it (base64 JSON with claims; "Work with user identities in Azure App Service authentication").</summary>
    private static Action<IHeaderDictionary> As(string objectId, params string[] roles) => headers =>
    {
        var claims = new List<object> { new { typ = "http://schemas.microsoft.com/identity/claims/objectidentifier", val = objectId } };
        claims.AddRange(roles.Select(r => (object)new { typ = "roles", val = r }));
        string json = JsonSerializer.Serialize(new { auth_typ = "aad", claims, name_typ = "name", role_typ = "roles" });
        headers[AdvertiserPrincipals.PrincipalHeader] = Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
        headers[AdvertiserPrincipals.PrincipalIdHeader] = objectId;
    };

    private static readonly Action<IHeaderDictionary> Admin = As(AdminObjectId);

    private static async Task<(int Status, string Body, IHeaderDictionary Headers)> Send(IHost host, string method, string path, string? json, Action<IHeaderDictionary>? headers)
    {
        var context = new DefaultHttpContext { RequestServices = host.Services };
        context.Request.Method = method;
        int q = path.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = q < 0 ? path : path[..q];
        context.Request.QueryString = q < 0 ? QueryString.Empty : new QueryString(path[q..]);
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        if (json is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(json);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentType = "application/json";
            context.Request.ContentLength = bytes.Length;
        }
        headers?.Invoke(context.Request.Headers);
        var body = new MemoryStream();
        context.Response.Body = body;
        var admin = ActivatorUtilities.CreateInstance<AdminFunctions>(host.Services);
        string[] parts = context.Request.Path.Value!.Trim('/').Split('/');
        await ((method, parts) switch
        {
            ("POST", ["api", "admin", "advertisers"]) => admin.AddAdvertiserAsync(context.Request),
            ("POST", ["api", "admin", "advertisers", var id, "keys"]) => admin.IssueKeyAsync(context.Request, id),
            ("GET", ["api", "admin", "advertisers", var id, "keys"]) => admin.ListKeysAsync(context.Request, id),
            ("DELETE", ["api", "admin", "advertisers", var id, "keys", var key]) => admin.RevokeKeyAsync(context.Request, id, key),
            ("POST", ["api", "admin", "advertisers", var id, "principals"]) => admin.MapPrincipalAsync(context.Request, id),
            ("GET", ["api", "admin", "advertisers", var id, "principals"]) => admin.ListPrincipalsAsync(context.Request, id),
            ("DELETE", ["api", "admin", "advertisers", var id, "principals", var p]) => admin.UnmapPrincipalAsync(context.Request, id, p),
            ("GET", ["api", "ads", var ad, "clicks"]) => ActivatorUtilities.CreateInstance<GetAdClicks>(host.Services).RunAsync(context.Request, ad),
            _ => throw new ArgumentException($"no function serves {method} {path}"),
        });
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()), context.Response.Headers);
    }

    private Task<(int Status, string Body, IHeaderDictionary Headers)> Send(string method, string path, string? json = null, Action<IHeaderDictionary>? headers = null) =>
        Send(_host, method, path, json, headers);

    private const string ClicksQuery = "/api/ads/ad-1/clicks?from=2026-12-02T09:00:00Z&to=2026-12-02T10:00:00Z&granularity=hour";

    /// <summary>ADX answers one query, and the test checks it was scoped to <paramref name="advertiserId"/> (the RLS side filters by the same parameter).</summary>
    private void ExpectQueryFor(string advertiserId) =>
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(
            [("Kind", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), .. ClickFunctions.Azure.Kusto.KustoBucketQueries.ReasonColumns.Select(c => (c.Column, "long"))],
            // The bucket's two invalid clicks carry their reason (the first reason column), as AdClicks.kql answers.
            ["bucket", "2026-12-02T09:00:00.0000000Z", 7, 2, 2, .. Enumerable.Repeat<object>(0, ClickFunctions.Azure.Kusto.KustoBucketQueries.ReasonColumns.Count - 1)],
            ["known", "2026-12-02T00:00:00.0000000Z", 0, 0, .. Enumerable.Repeat<object>(0, ClickFunctions.Azure.Kusto.KustoBucketQueries.ReasonColumns.Count)]),
            r => JsonDocument.Parse(r.Body).RootElement.GetProperty("properties").GetProperty("Parameters").GetProperty("advertiserId").GetString() == advertiserId
                ? null : $"not scoped to {advertiserId}");

    [Fact]
    public async Task Only_the_Easy_Auth_admin_may_call_it_and_only_with_platform_authentication_on()
    {
        const string body = """{"id":"adv-x","name":"X"}""";
        Assert.Equal(401, (await Send("POST", "/api/admin/advertisers", body)).Status);
        Assert.Equal(401, (await Send("POST", "/api/admin/advertisers", body, As(Nobody))).Status);
        Assert.Equal(401, (await Send("POST", "/api/admin/advertisers", body, As(Nobody, "Some.Other.Role"))).Status);
        // The local host's admin key means nothing here: the Functions app's admin is an Entra principal.
        Assert.Equal(401, (await Send("POST", "/api/admin/advertisers", body, h => h["X-Api-Key"] = "an-admin-key-0123456789")).Status);
        Assert.Equal(201, (await Send("POST", "/api/admin/advertisers", body, As(RoleHolder, AdminPrincipalOptions.DefaultRole))).Status);
        Assert.Equal(409, (await Send("POST", "/api/admin/advertisers", body, Admin)).Status);

        // Without WEBSITE_AUTH_ENABLED the headers could come from anyone, so even the admin's are ignored.
        var unguarded = Build(platformAuth: false);
        try
        {
            Assert.Equal(401, (await Send(unguarded, "POST", "/api/admin/advertisers", """{"id":"adv-y"}""", Admin)).Status);
        }
        finally
        {
            await ((IAsyncDisposable)unguarded).DisposeAsync();
        }
    }

    [Fact]
    public async Task A_principal_mapped_at_runtime_queries_as_its_advertiser_until_unmapped()
    {
        Assert.Equal(401, (await Send("GET", ClicksQuery, headers: As(NewPrincipal))).Status);
        Assert.Equal(404, (await Send("POST", "/api/admin/advertisers/adv-new/principals", $$"""{"principalId":"{{NewPrincipal}}"}""", Admin)).Status);
        var (created, createdBody, _) = await Send("POST", "/api/admin/advertisers", """{"id":"adv-new","name":"New shop","timeZone":"Europe/Berlin"}""", Admin);
        Assert.Equal(201, created);
        Assert.Equal("adv-new", JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString());
        Assert.Equal(400, (await Send("POST", "/api/admin/advertisers/adv-new/principals", """{"principalId":"not-a-guid"}""", Admin)).Status);
        Assert.Equal(400, (await Send("POST", "/api/admin/advertisers/adv-new/principals", "{nope", Admin)).Status);

        var (mapped, mappedBody, _) = await Send("POST", "/api/admin/advertisers/adv-new/principals", $$"""{"principalId":"{{NewPrincipal}}"}""", Admin);
        Assert.Equal(201, mapped);
        Assert.Equal(NewPrincipal.ToLowerInvariant(), JsonDocument.Parse(mappedBody).RootElement.GetProperty("principalId").GetString());
        // One principal, one advertiser: mapping it again (here, or to adv-1) is a conflict.
        Assert.Equal(409, (await Send("POST", "/api/admin/advertisers/adv-1/principals", $$"""{"principalId":"{{NewPrincipal}}"}""", Admin)).Status);

        var (listed, listBody, _) = await Send("GET", "/api/admin/advertisers/adv-new/principals", headers: Admin);
        Assert.Equal(200, listed);
        Assert.Equal(NewPrincipal.ToLowerInvariant(), Assert.Single(JsonDocument.Parse(listBody).RootElement.GetProperty("principals").EnumerateArray()).GetProperty("principalId").GetString());

        // The next request of that principal is adv-new's, with no restart; ADX is asked for adv-new only.
        ExpectQueryFor("adv-new");
        var (status, answer, _) = await Send("GET", ClicksQuery, headers: As(NewPrincipal));
        Assert.Equal(200, status);
        Assert.Empty(_adx.Mismatches);
        Assert.Equal("adv-new", JsonDocument.Parse(answer).RootElement.GetProperty("advertiserId").GetString());

        Assert.Equal(404, (await Send("DELETE", $"/api/admin/advertisers/adv-1/principals/{NewPrincipal}", headers: Admin)).Status);
        Assert.Equal(204, (await Send("DELETE", $"/api/admin/advertisers/adv-new/principals/{NewPrincipal}", headers: Admin)).Status);
        int before = _adx.Requests.Count;
        Assert.Equal(401, (await Send("GET", ClicksQuery, headers: As(NewPrincipal))).Status);
        Assert.Equal(before, _adx.Requests.Count);
    }

    [Fact]
    public async Task A_key_is_issued_once_listed_without_it_works_in_X_Api_Key_and_stops_when_revoked_or_expired()
    {
        Assert.Equal(201, (await Send("POST", "/api/admin/advertisers", """{"id":"adv-keys"}""", Admin)).Status);
        Assert.Equal(404, (await Send("POST", "/api/admin/advertisers/adv-none/keys", "{}", Admin)).Status);
        var (issued, issuedBody, issuedHeaders) = await Send("POST", "/api/admin/advertisers/adv-keys/keys", null, Admin);
        Assert.Equal(201, issued);
        Assert.Equal("no-store", issuedHeaders.CacheControl.ToString());
        var key = JsonDocument.Parse(issuedBody).RootElement;
        string secret = key.GetProperty("key").GetString()!;
        string keyId = key.GetProperty("keyId").GetString()!;
        Assert.StartsWith("cf_", secret, StringComparison.Ordinal);

        var (listed, listBody, _) = await Send("GET", "/api/admin/advertisers/adv-keys/keys", headers: Admin);
        Assert.Equal(200, listed);
        Assert.DoesNotContain(secret, listBody, StringComparison.Ordinal);
        Assert.Equal(keyId, Assert.Single(JsonDocument.Parse(listBody).RootElement.GetProperty("keys").EnumerateArray()).GetProperty("keyId").GetString());
        // The table holds the hash, never the key.
        await foreach (var row in azurite.Tables().GetTableClient(_host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["Accounts:TableName"]).QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            Assert.DoesNotContain(secret, string.Join(" ", row.Select(kv => kv.Value)), StringComparison.Ordinal);
        }

        ExpectQueryFor("adv-keys");
        var (status, answer, _) = await Send("GET", ClicksQuery, headers: h => h["X-Api-Key"] = secret);
        Assert.Equal(200, status);
        Assert.Empty(_adx.Mismatches);
        Assert.Equal("adv-keys", JsonDocument.Parse(answer).RootElement.GetProperty("advertiserId").GetString());

        Assert.Equal(204, (await Send("DELETE", $"/api/admin/advertisers/adv-keys/keys/{keyId}", headers: Admin)).Status);
        Assert.Equal(404, (await Send("DELETE", $"/api/admin/advertisers/adv-keys/keys/{keyId}", headers: Admin)).Status);
        Assert.Equal(401, (await Send("GET", ClicksQuery, headers: h => h["X-Api-Key"] = secret)).Status);

        // An expiring key works until its expiry on the app's clock, then fails.
        var (expiring, expiringBody, _) = await Send("POST", "/api/admin/advertisers/adv-keys/keys", $$"""{"expires":"{{Start.AddHours(1):O}}"}""", Admin);
        Assert.Equal(201, expiring);
        string short_lived = JsonDocument.Parse(expiringBody).RootElement.GetProperty("key").GetString()!;
        ExpectQueryFor("adv-keys");
        Assert.Equal(200, (await Send("GET", ClicksQuery, headers: h => h["X-Api-Key"] = short_lived)).Status);
        _clock.Now = Start.AddHours(1);
        Assert.Equal(401, (await Send("GET", ClicksQuery, headers: h => h["X-Api-Key"] = short_lived)).Status);
        Assert.Equal(400, (await Send("POST", "/api/admin/advertisers/adv-keys/keys", $$"""{"expires":"{{Start:O}}"}""", Admin)).Status);
    }
}
