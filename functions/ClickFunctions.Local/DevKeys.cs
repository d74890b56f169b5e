using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Hosting.Options;

namespace ClickFunctions.Local;

/// <summary>
/// With no signing key or fingerprint secret configured, the local host (and the sign command) use development
/// secrets kept in {data-dir}/dev-keys.json, created on first use. Configured values always win.
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
        bool needPrivacy = string.IsNullOrEmpty(configuration[$"{PrivacyOptions.Section}:{nameof(PrivacyOptions.FingerprintSecret)}"]);
        if (!needSigning && !needPrivacy)
        {
            notes.Add("signing key: configured (ClickSigning)");
            return notes;
        }
        string path = Path.Combine(dataDirectory, FileName);
        var (keys, created) = LoadOrCreate(path);
        var values = new Dictionary<string, string?>();
        if (needSigning)
        {
            values[$"{ClickSigningOptions.Section}:{nameof(ClickSigningOptions.KeyId)}"] = DevKeyId;
            values[$"{ClickSigningOptions.Section}:{nameof(ClickSigningOptions.Key)}"] = keys.SigningKey;
            notes.Add(created
                ? $"signing key: none configured, so a development key was created in {path} (set ClickSigning:KeyId and ClickSigning:Key for production)"
                : $"signing key: none configured, using the development key in {path} (set ClickSigning:KeyId and ClickSigning:Key for production)");
        }
        else
        {
            notes.Add("signing key: configured (ClickSigning)");
        }
        if (needPrivacy)
        {
            values[$"{PrivacyOptions.Section}:{nameof(PrivacyOptions.FingerprintSecret)}"] = keys.FingerprintSecret;
        }
        configuration.AddInMemoryCollection(values);
        return notes;
    }

    private static (DevKeyFile Keys, bool Created) LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var existing = JsonSerializer.Deserialize(File.ReadAllText(path), DevKeysJson.Default.DevKeyFile);
            if (existing is { SigningKey.Length: > 0, FingerprintSecret.Length: > 0 })
            {
                return (existing, false);
            }
            throw new InvalidOperationException($"{path} is not a valid development key file; delete it to create a new one.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var keys = new DevKeyFile(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(keys, DevKeysJson.Default.DevKeyFile));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
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

public sealed record DevKeyFile(string SigningKey, string FingerprintSecret);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DevKeyFile))]
internal sealed partial class DevKeysJson : JsonSerializerContext;
