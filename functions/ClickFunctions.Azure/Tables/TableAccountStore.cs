using Azure;
using Azure.Data.Tables;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Hosting.Accounts;

namespace ClickFunctions.Azure.Tables;

/// <summary>
/// Advertisers and query API key hashes in one Table Storage table, so onboarding needs no redeploy. Partitions:
/// <c>advertiser</c> (row key = advertiser id; an insert that conflicts is "exists", Table Storage answers 409 to an
/// insert of an existing entity: "Insert Entity", Azure Storage REST reference); <c>key</c> (row key = the key's
/// SHA-256, a point read per authentication); <c>keys-{advertiser}</c> (row key = key id, the listing). An issued
/// key's listing row is written before its hash row, and a revocation deletes the hash row first, so a crash between
/// the two writes leaves at worst a listed key that does not work, never a working key that is not listed.
/// Partition <c>principal</c> (row key = the Entra object id, lower-case GUID) maps a principal to one advertiser in
/// a single row, so a mapping is made or removed atomically and an insert conflict means "already mapped".
/// </summary>
public sealed class TableAccountStore(TableClient table) : IAccountStore, IPrincipalDirectory
{
    private const string AdvertiserPartition = "advertiser";
    private const string KeyPartition = "key";
    private const string PrincipalPartition = "principal";

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

    public async Task<AddOutcome> MapAsync(PrincipalMapping mapping, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await client.AddEntityAsync(new TableEntity(PrincipalPartition, mapping.PrincipalId)
            {
                ["AdvertiserId"] = mapping.AdvertiserId,
                ["Created"] = mapping.Created,
            }, cancellationToken).ConfigureAwait(false);
            return AddOutcome.Created;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return AddOutcome.Exists;
        }
    }

    public async Task<string?> AdvertiserOfAsync(string principalId, CancellationToken cancellationToken) =>
        await FindMappingAsync(principalId, cancellationToken).ConfigureAwait(false) is { } e ? e.GetString("AdvertiserId") : null;

    public async Task<IReadOnlyList<PrincipalMapping>> ListAsync(string advertiserId, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var mappings = new List<PrincipalMapping>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {PrincipalPartition} and AdvertiserId eq {advertiserId}");
        await foreach (var e in client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            mappings.Add(new PrincipalMapping(e.RowKey, advertiserId, e.GetDateTimeOffset("Created") ?? default));
        }
        return [.. mappings.OrderBy(m => m.Created)];
    }

    public async Task<bool> UnmapAsync(string advertiserId, string principalId, CancellationToken cancellationToken)
    {
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        if (await FindMappingAsync(principalId, cancellationToken).ConfigureAwait(false) is not { } entity
            || !string.Equals(entity.GetString("AdvertiserId"), advertiserId, StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            // Conditional on the row read: a mapping remade in between is not removed by this request.
            await client.DeleteEntityAsync(PrincipalPartition, principalId, entity.ETag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    private async Task<TableEntity?> FindMappingAsync(string principalId, CancellationToken cancellationToken)
    {
        // Row keys may not hold '/', '\', '#', '?' or control characters ("Understanding the Table service data
        // model"); a principal id is a GUID by then (PrincipalIds.Normalize), anything else is simply not mapped.
        if (string.IsNullOrEmpty(principalId) || principalId.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            return null;
        }
        var client = await TableAsync(cancellationToken).ConfigureAwait(false);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(PrincipalPartition, principalId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return found.HasValue ? found.Value : null;
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
