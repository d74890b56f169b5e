using Azure;
using Azure.Data.Tables;
using ClickFunctions.Hosting.Accounts;

namespace ClickFunctions.Azure.Tables;

/// <summary>
/// Advertisers and query API key hashes in one Table Storage table, so onboarding needs no redeploy. Partitions:
/// <c>advertiser</c> (row key = advertiser id; an insert that conflicts is "exists", Table Storage answers 409 to an
/// insert of an existing entity: "Insert Entity", Azure Storage REST reference); <c>key</c> (row key = the key's
/// SHA-256, a point read per authentication); <c>keys-{advertiser}</c> (row key = key id, the listing). An issued
/// key's listing row is written before its hash row, and a revocation deletes the hash row first, so a crash between
/// the two writes leaves at worst a listed key that does not work, never a working key that is not listed.
/// </summary>
public sealed class TableAccountStore(TableClient table) : IAccountStore
{
    private const string AdvertiserPartition = "advertiser";
    private const string KeyPartition = "key";

    private static string ListingPartition(string advertiserId) => "keys-" + advertiserId;

    private Task? _created;

    private async Task<TableClient> TableAsync(CancellationToken cancellationToken)
    {
        _created ??= table.CreateIfNotExistsAsync(CancellationToken.None);
        await _created.WaitAsync(cancellationToken).ConfigureAwait(false);
        return table;
    }

    public async Task<AddOutcome> AddAdvertiserAsync(AdvertiserAccount advertiser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(advertiser);
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(AdvertiserPartition, advertiser.Id)
        {
            ["Name"] = advertiser.Name,
            ["TimeZone"] = advertiser.TimeZone,
            ["Created"] = advertiser.Created,
        };
        try
        {
            await client.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            return AddOutcome.Created;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return AddOutcome.Exists;
        }
    }

    public async Task<AdvertiserAccount?> FindAdvertiserAsync(string advertiserId, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(AdvertiserPartition, advertiserId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return found.HasValue && found.Value is { } e
            ? new AdvertiserAccount(advertiserId, e.GetString("Name"), e.GetString("TimeZone"), e.GetDateTimeOffset("Created") ?? default)
            : null;
    }

    public async Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        await client.AddEntityAsync(Entity(ListingPartition(key.AdvertiserId), key.KeyId, key), cancellationToken).ConfigureAwait(false);
        await client.AddEntityAsync(Entity(KeyPartition, key.HashHex, key), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredKey>> ListKeysAsync(string advertiserId, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<StoredKey>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {ListingPartition(advertiserId)}");
        await foreach (var e in client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            keys.Add(Key(e));
        }
        return [.. keys.OrderBy(k => k.Created)];
    }

    public async Task<bool> RevokeKeyAsync(string advertiserId, string keyId, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var listed = await client.GetEntityIfExistsAsync<TableEntity>(ListingPartition(advertiserId), keyId, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!listed.HasValue || listed.Value is not { } entity)
        {
            return false;
        }
        await client.DeleteEntityAsync(KeyPartition, entity.GetString("HashHex"), ETag.All, cancellationToken).ConfigureAwait(false);
        await client.DeleteEntityAsync(ListingPartition(advertiserId), keyId, ETag.All, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async ValueTask<StoredKey?> FindByHashAsync(string hashHex, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(KeyPartition, hashHex, cancellationToken: cancellationToken).ConfigureAwait(false);
        return found.HasValue && found.Value is { } e ? Key(e) : null;
    }

    private static TableEntity Entity(string partition, string row, StoredKey key) => new(partition, row)
    {
        ["KeyId"] = key.KeyId,
        ["AdvertiserId"] = key.AdvertiserId,
        ["Prefix"] = key.Prefix,
        ["HashHex"] = key.HashHex,
        ["Created"] = key.Created,
        ["Expires"] = key.Expires,
    };

    private static StoredKey Key(TableEntity e) => new(
        e.GetString("KeyId"), e.GetString("AdvertiserId"), e.GetString("Prefix"), e.GetString("HashHex"),
        e.GetDateTimeOffset("Created") ?? default, e.GetDateTimeOffset("Expires"));
}
