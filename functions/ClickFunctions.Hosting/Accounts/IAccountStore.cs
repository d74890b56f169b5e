using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Hosting.Accounts;

/// <summary>An advertiser created at runtime through the admin API.</summary>
public sealed record AdvertiserAccount(string Id, string? Name, string? TimeZone, DateTimeOffset Created);

/// <summary>What is kept of a query API key: never the key, only its SHA-256 and the first characters to recognise it.</summary>
public sealed record StoredKey(string KeyId, string AdvertiserId, string Prefix, string HashHex, DateTimeOffset Created, DateTimeOffset? Expires);

/// <summary>A key as the admin API lists it (no hash, no key).</summary>
public sealed record KeyInfo(string KeyId, string Prefix, DateTimeOffset Created, DateTimeOffset? Expires);

/// <summary>A key just issued: <see cref="Key"/> is shown once and not stored.</summary>
public sealed record IssuedKey(string KeyId, string Key, DateTimeOffset Created, DateTimeOffset? Expires);

public enum AddOutcome { Created, Exists }

/// <summary>
/// Advertisers and their query API keys, changed at runtime through the admin API (no restart). The local host keeps
/// them in a file of its data directory; the Azure host in Table Storage.
/// </summary>
public interface IAccountStore
{
    Task<AddOutcome> AddAdvertiserAsync(AdvertiserAccount advertiser, CancellationToken cancellationToken);

    Task<AdvertiserAccount?> FindAdvertiserAsync(string advertiserId, CancellationToken cancellationToken);

    Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredKey>> ListKeysAsync(string advertiserId, CancellationToken cancellationToken);

    /// <summary>Removes the key; false if the advertiser has no such key.</summary>
    Task<bool> RevokeKeyAsync(string advertiserId, string keyId, CancellationToken cancellationToken);

    /// <summary>The stored key whose hash is <paramref name="hashHex"/>, or null.</summary>
    ValueTask<StoredKey?> FindByHashAsync(string hashHex, CancellationToken cancellationToken);
}

/// <summary>The runtime keys' format: <c>cf_</c> + 32 random bytes in base64url; stored as SHA-256 (the key is random, so a fast hash suffices).</summary>
public static class RuntimeKeys
{
    public const string Prefix = "cf_";
    public const int ShownPrefixLength = 10;

    public static (StoredKey Stored, IssuedKey Issued) Issue(string advertiserId, DateTimeOffset created, DateTimeOffset? expires)
    {
        string key = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        string keyId = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var stored = new StoredKey(keyId, advertiserId, key[..ShownPrefixLength], HashHex(key), created, expires);
        return (stored, new IssuedKey(keyId, key, created, expires));
    }

    public static string HashHex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool Looks(string key) => key.StartsWith(Prefix, StringComparison.Ordinal) && key.Length is > 20 and < 100;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
