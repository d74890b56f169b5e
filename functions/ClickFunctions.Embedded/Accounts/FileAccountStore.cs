using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Embedded.Privacy;
using ClickFunctions.Hosting.Accounts;

namespace ClickFunctions.Embedded.Accounts;

/// <summary>
/// The local host's advertisers and key hashes in <c>{data-dir}/accounts.json</c>. Each change writes a whole new
/// file (owner-only, fsync'd) renamed over the old one with the directory fsync'd (<see cref="SecretFiles"/>), so a
/// crash leaves the old or the new file, never half of one; the admin API answers only after that. Lookups are served
/// from memory, updated in the same lock as the file, so a revoked key fails on the very next request.
/// </summary>
public sealed class FileAccountStore : IAccountStore
{
    public const string FileName = "accounts.json";

    private readonly string _path;
    private readonly Lock _gate = new();
    private AccountsFile _state;
    private Dictionary<string, StoredKey> _byHash;

    public FileAccountStore(string dataDirectory)
    {
        _path = Path.Combine(dataDirectory, FileName);
        _state = File.Exists(_path)
            ? JsonSerializer.Deserialize(File.ReadAllBytes(_path), AccountsJson.Default.AccountsFile) ?? throw new InvalidDataException($"{_path} is empty.")
            : new AccountsFile([], []);
        _byHash = _state.Keys.ToDictionary(k => k.HashHex, StringComparer.Ordinal);
    }

    public Task<AddOutcome> AddAdvertiserAsync(AdvertiserAccount advertiser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(advertiser);
        lock (_gate)
        {
            if (_state.Advertisers.Any(a => a.Id == advertiser.Id))
            {
                return Task.FromResult(AddOutcome.Exists);
            }
            Save(_state with { Advertisers = [.. _state.Advertisers, advertiser] });
            return Task.FromResult(AddOutcome.Created);
        }
    }

    public Task<AdvertiserAccount?> FindAdvertiserAsync(string advertiserId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_state.Advertisers.FirstOrDefault(a => a.Id == advertiserId));
        }
    }

    public Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            Save(_state with { Keys = [.. _state.Keys, key] });
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StoredKey>> ListKeysAsync(string advertiserId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<StoredKey>>([.. _state.Keys.Where(k => k.AdvertiserId == advertiserId).OrderBy(k => k.Created)]);
        }
    }

    public Task<bool> RevokeKeyAsync(string advertiserId, string keyId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_state.Keys.Any(k => k.AdvertiserId == advertiserId && k.KeyId == keyId))
            {
                return Task.FromResult(false);
            }
            Save(_state with { Keys = [.. _state.Keys.Where(k => !(k.AdvertiserId == advertiserId && k.KeyId == keyId))] });
            return Task.FromResult(true);
        }
    }

    public ValueTask<StoredKey?> FindByHashAsync(string hashHex, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_byHash.GetValueOrDefault(hashHex));
        }
    }

    private void Save(AccountsFile next)
    {
        SecretFiles.ReplaceAndShred(_path, JsonSerializer.SerializeToUtf8Bytes(next, AccountsJson.Default.AccountsFile));
        _state = next;
        _byHash = next.Keys.ToDictionary(k => k.HashHex, StringComparer.Ordinal);
    }
}

public sealed record AccountsFile(IReadOnlyList<AdvertiserAccount> Advertisers, IReadOnlyList<StoredKey> Keys);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AccountsFile))]
internal sealed partial class AccountsJson : JsonSerializerContext;
