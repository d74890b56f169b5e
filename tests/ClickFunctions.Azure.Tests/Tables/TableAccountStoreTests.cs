using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Hosting.Accounts;

namespace ClickFunctions.Azure.Tests.Tables;

/// <summary>Advertisers and key hashes against a real Azurite Table service.</summary>
public sealed class TableAccountStoreTests(Azurite azurite)
{
    private readonly TableAccountStore _store = new(azurite.Tables().GetTableClient("accounts" + Guid.NewGuid().ToString("N")[..12]));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_advertiser_is_created_once_and_found()
    {
        var account = new AdvertiserAccount("adv-1", "Shop", "Europe/Berlin", new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
        Assert.Equal(AddOutcome.Created, await _store.AddAdvertiserAsync(account, Ct));
        Assert.Equal(AddOutcome.Exists, await _store.AddAdvertiserAsync(account with { Name = "Other" }, Ct));
        Assert.Equal(account, await _store.FindAdvertiserAsync("adv-1", Ct));
        Assert.Null(await _store.FindAdvertiserAsync("adv-2", Ct));
    }

    [Fact]
    public async Task An_issued_key_is_found_by_its_hash_listed_without_it_and_gone_once_revoked()
    {
        var now = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        var (stored, issued) = RuntimeKeys.Issue("adv-1", now, now.AddDays(30));
        var (other, _) = RuntimeKeys.Issue("adv-2", now, null);
        await _store.AddKeyAsync(stored, Ct);
        await _store.AddKeyAsync(other, Ct);

        Assert.Equal(stored, await _store.FindByHashAsync(RuntimeKeys.HashHex(issued.Key), Ct));
        var listed = Assert.Single(await _store.ListKeysAsync("adv-1", Ct));
        Assert.Equal(stored.KeyId, listed.KeyId);
        Assert.DoesNotContain(issued.Key, listed.ToString(), StringComparison.Ordinal);

        Assert.False(await _store.RevokeKeyAsync("adv-2", stored.KeyId, Ct)); // not that advertiser's key
        Assert.True(await _store.RevokeKeyAsync("adv-1", stored.KeyId, Ct));
        Assert.Null(await _store.FindByHashAsync(stored.HashHex, Ct));
        Assert.Empty(await _store.ListKeysAsync("adv-1", Ct));
        Assert.False(await _store.RevokeKeyAsync("adv-1", stored.KeyId, Ct));
        Assert.Equal(other, await _store.FindByHashAsync(other.HashHex, Ct));
    }
}
