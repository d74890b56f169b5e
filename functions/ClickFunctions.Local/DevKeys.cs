using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Embedded.Privacy;
using ClickFunctions.Hosting.Options;

namespace ClickFunctions.Local;

/// <summary>
/// With no signing key configured, the local host (and the sign command) use a development signing key kept in
/// {data-dir}/dev-keys.json, created on first use. Configured values always win. There is no fingerprint secret: the
/// local host's fingerprint keys are random per day and destroyed after it (DayKeyFile); a master secret that an
/// earlier version kept in this file is erased from it.
/// </summary>
public static class DevKeys
{
    public const string FileName = "dev-keys.json";
    public const string DevKeyId = "dev";

    /// <summary>Adds the development secrets to <paramref name="configuration"/> where nothing is configured; returns what it did, for the user.</summary>
    public static IReadOnlyList<string> Apply(IConfigurationManager configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var notes = new List<string>();
        bool needSigning = string.IsNullOrEmpty(configuration[$"{ClickSigningOptions.Section}:{nameof(ClickSigningOptions.Key)}"]);
        if (!string.IsNullOrEmpty(configuration[$"{PrivacyOptions.Section}:{nameof(PrivacyOptions.FingerprintSecret)}"]))
        {
            notes.Add("fingerprints: Privacy:FingerprintSecret is not used by the local host (its day keys are random and destroyed after their day)");
        }
        string path = Path.Combine(dataDirectory, FileName);
        EraseFingerprintSecret(path);
        if (!needSigning)
        {
            notes.Add("signing key: configured (ClickSigning)");
            return notes;
        }
        var (keys, created) = LoadOrCreate(path);
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{ClickSigningOptions.Section}:{nameof(ClickSigningOptions.KeyId)}"] = DevKeyId,
            [$"{ClickSigningOptions.Section}:{nameof(ClickSigningOptions.Key)}"] = keys.SigningKey,
        });
        notes.Add(created
            ? $"signing key: none configured, so a development key was created in {path} (set ClickSigning:KeyId and ClickSigning:Key for production)"
            : $"signing key: none configured, using the development key in {path} (set ClickSigning:KeyId and ClickSigning:Key for production)");
        return notes;
    }

    /// <summary>
    /// Earlier versions kept a permanent fingerprint master secret here, from which every day's key (and so every
    /// stored click's full IP) could be recomputed: rewrite the file without it and overwrite the old bytes.
    /// </summary>
    private static void EraseFingerprintSecret(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }
        var existing = JsonSerializer.Deserialize(File.ReadAllText(path), DevKeysJson.Default.DevKeyFile);
        if (existing?.FingerprintSecret is null)
        {
            return;
        }
        SecretFiles.ReplaceAndShred(path, Serialize(existing with { FingerprintSecret = null }));
    }

    private static byte[] Serialize(DevKeyFile keys) => JsonSerializer.SerializeToUtf8Bytes(keys, DevKeysJson.Default.DevKeyFile);

    private static (DevKeyFile Keys, bool Created) LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var existing = JsonSerializer.Deserialize(File.ReadAllText(path), DevKeysJson.Default.DevKeyFile);
            if (existing is { SigningKey.Length: > 0 })
            {
                return (existing, false);
            }
            throw new InvalidOperationException($"{path} is not a valid development key file; delete it to create a new one.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var keys = new DevKeyFile(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        SecretFiles.WritePrivate(temp, Serialize(keys));
        try
        {
            File.Move(temp, path, overwrite: false);
            return (keys, true);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process (a concurrent sign command) created it first: use theirs.
            File.Delete(temp);
            return LoadOrCreate(path);
        }
    }
}

/// <summary>The development key file; <see cref="FingerprintSecret"/> is only ever read, to erase it (see <see cref="DevKeys"/>).</summary>
public sealed record DevKeyFile(string SigningKey, string? FingerprintSecret = null);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DevKeyFile))]
internal sealed partial class DevKeysJson : JsonSerializerContext;
