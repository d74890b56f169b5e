using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Clicks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Privacy;

/// <summary>
/// Privacy by destruction (docs/wire-format.md, Privacy): each UTC day's fingerprint key is 32 random bytes, made on
/// the day's first click and kept in one file of the data directory (written to a new file, fsync'd, renamed into
/// place) so that a restart fingerprints the same user the same within the day. A key is needed only to fingerprint
/// new clicks of its day (the dedup claims hold click ids, not keys), so it is destroyed <see cref="Grace"/> after its
/// day ends: removed from the file, the file's old bytes overwritten, the copy in memory zeroed. From then on nothing
/// anywhere can recompute that day's fingerprints, so the stored /24 and fingerprint cannot be tied to a full IP.
/// </summary>
public sealed partial class DayKeyFile : IFingerprintKeys
{
    public const string FileName = "fingerprint-keys.json";

    /// <summary>How long after its UTC day a key lives: the last clicks of the day are fingerprinted before it ends.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    private const int KeyBytes = 32;
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly SortedDictionary<DateOnly, byte[]> _keys = [];

    public DayKeyFile(string path, TimeProvider time, ILogger<DayKeyFile> logger)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = Path.GetFullPath(path);
        _time = time;
        _logger = logger;
        Load();
        DestroyExpired();
    }

    /// <summary>Days whose keys exist now (diagnostics and tests).</summary>
    public IReadOnlyList<DateOnly> Days
    {
        get
        {
            lock (_gate)
            {
                return [.. _keys.Keys];
            }
        }
    }

    public static DateTimeOffset ExpiryOf(DateOnly day) =>
        new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) + Grace;

    public byte[] KeyFor(DateTimeOffset timestamp)
    {
        var day = DateOnly.FromDateTime(timestamp.UtcDateTime);
        lock (_gate)
        {
            if (_keys.TryGetValue(day, out var key))
            {
                return key;
            }
            key = RandomNumberGenerator.GetBytes(KeyBytes);
            _keys[day] = key;
            try
            {
                // Durable before the first fingerprint under it, so a restart later today hashes the same.
                Save();
            }
            catch
            {
                _keys.Remove(day);
                throw;
            }
            Log.KeyCreated(_logger, day);
            return key;
        }
    }

    /// <summary>Destroys every key whose day ended more than <see cref="Grace"/> ago; returns when the next one expires.</summary>
    public DateTimeOffset? DestroyExpired()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var expired = _keys.Keys.Where(day => ExpiryOf(day) <= now).ToList();
            if (expired.Count > 0)
            {
                var removed = expired.Select(day => _keys[day]).ToList();
                foreach (var day in expired)
                {
                    _keys.Remove(day);
                }
                Save();
                foreach (var key in removed)
                {
                    CryptographicOperations.ZeroMemory(key);
                }
                foreach (var day in expired)
                {
                    Log.KeyDestroyed(_logger, day);
                }
            }
            return _keys.Count == 0 ? null : ExpiryOf(_keys.Keys.First());
        }
    }

    private void Load()
    {
        if (!File.Exists(_path))
        {
            return;
        }
        DayKeysDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(File.ReadAllText(_path), DayKeysJson.Default.DayKeysDocument);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{_path} is not a valid fingerprint key file ({e.Message}).", e);
        }
        foreach (var entry in document?.Keys ?? [])
        {
            if (!DateOnly.TryParseExact(entry.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                throw new InvalidOperationException($"{_path}: '{entry.Day}' is not a day (yyyy-MM-dd).");
            }
            var key = new byte[KeyBytes];
            if (!Convert.TryFromBase64String(entry.Key, key, out int written) || written != KeyBytes)
            {
                throw new InvalidOperationException($"{_path}: the key of {entry.Day} is not base64 of {KeyBytes} bytes.");
            }
            _keys[day] = key;
        }
    }

    /// <summary>
    /// Writes the keys to a new file, fsyncs it and renames it over the old one, then overwrites the old file's bytes
    /// (still open) with zeros, so a destroyed key does not linger in the unlinked inode.
    /// </summary>
    private void Save()
    {
        var document = new DayKeysDocument([.. _keys.Select(k => new DayKeyEntry(k.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Convert.ToBase64String(k.Value)))]);
        SecretFiles.ReplaceAndShred(_path, JsonSerializer.SerializeToUtf8Bytes(document, DayKeysJson.Default.DayKeysDocument));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Fingerprint key for {Day} created.")]
        public static partial void KeyCreated(ILogger logger, DateOnly day);

        [LoggerMessage(2, LogLevel.Information, "Fingerprint key for {Day} destroyed: that day's fingerprints can no longer be recomputed.")]
        public static partial void KeyDestroyed(ILogger logger, DateOnly day);
    }
}

/// <summary>Destroys expired day keys on time even when no click comes (at start, then at least once a minute).</summary>
public sealed partial class DayKeyJanitor(DayKeyFile keys, TimeProvider time, ILogger<DayKeyJanitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = TimeSpan.FromMinutes(1);
            try
            {
                if (keys.DestroyExpired() is { } next && next - time.GetUtcNow() < wait)
                {
                    wait = next - time.GetUtcNow();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The key stays in memory and in the file until a later pass can rewrite the file (a full disk, say).
                Log.DestroyFailed(logger, e);
            }
            try
            {
                await Task.Delay(wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Could not destroy an expired fingerprint key; retrying within a minute.")]
        public static partial void DestroyFailed(ILogger logger, Exception exception);
    }
}

/// <summary>Registration of random, destroyed-after-use fingerprint keys for the embedded host.</summary>
public static class DayKeyFileExtensions
{
    /// <summary>
    /// Fingerprint keys in <c>{dataDirectory}/fingerprint-keys.json</c>, destroyed after their day. Call before
    /// <c>AddClickFunctionsCore</c>: with an <see cref="IFingerprintKeys"/> registered it needs no master secret.
    /// </summary>
    public static IServiceCollection AddDayKeyFile(this IServiceCollection services, string dataDirectory)
    {
        services.AddSingleton(sp => new DayKeyFile(
            Path.Combine(dataDirectory, DayKeyFile.FileName),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DayKeyFile>>()));
        services.AddSingleton<IFingerprintKeys>(sp => sp.GetRequiredService<DayKeyFile>());
        services.AddHostedService<DayKeyJanitor>();
        return services;
    }
}

internal sealed record DayKeyEntry(string Day, string Key);

internal sealed record DayKeysDocument(IReadOnlyList<DayKeyEntry> Keys);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DayKeysDocument))]
internal sealed partial class DayKeysJson : JsonSerializerContext;
