using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Embedded.Privacy;

namespace ClickFunctions.Local;

/// <summary>
/// With no <c>Admin:ApiKey</c> configured, the local host creates a development admin key in
/// <c>{data-dir}/admin-key</c> (owner-only, one line) and says so at start, as it does for the signing key; the
/// CLI's <c>advertisers</c> and <c>keys</c> commands read it from there.
/// </summary>
public static class DevAdminKey
{
    public const string FileName = "admin-key";
    public const string ConfigurationKey = "Admin:ApiKey";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>The development admin key in <paramref name="dataDirectory"/>, or null if there is none.</summary>
    public static string? Read(string dataDirectory)
    {
        string path = PathIn(dataDirectory);
        return File.Exists(path) ? File.ReadAllText(path).Trim() is { Length: > 0 } key ? key : null : null;
    }

    /// <summary>Adds the development admin key where none is configured; returns a note for the start-up banner.</summary>
    public static string Apply(IConfigurationManager configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!string.IsNullOrEmpty(configuration[ConfigurationKey]))
        {
            return "admin key: configured (Admin:ApiKey)";
        }
        string path = PathIn(dataDirectory);
        bool created = false;
        string? key = Read(dataDirectory);
        if (key is null)
        {
            Directory.CreateDirectory(dataDirectory);
            string fresh = "cf_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            string temp = $"{path}.{Guid.NewGuid():N}.tmp";
            SecretFiles.WritePrivate(temp, Encoding.UTF8.GetBytes(fresh + "\n"));
            try
            {
                File.Move(temp, path, overwrite: false);
                key = fresh;
                created = true;
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temp);
                key = Read(dataDirectory) ?? throw new InvalidOperationException($"{path} is empty; delete it to create a new admin key.");
            }
        }
        configuration.AddInMemoryCollection([new(ConfigurationKey, key)]);
        return created
            ? $"admin key: none configured, so a development admin key was created in {path} (the advertisers and keys commands use it; set Admin:ApiKey for production)"
            : $"admin key: none configured, using the development admin key in {path} (set Admin:ApiKey for production)";
    }
}
