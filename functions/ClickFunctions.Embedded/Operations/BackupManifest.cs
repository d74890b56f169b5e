using System.Text.Json.Serialization;

namespace ClickFunctions.Embedded.Operations;

/// <summary>One file of a backup: its path inside the backup, its size and SHA-256.</summary>
public sealed record BackupFile(string Path, long Bytes, string Sha256);

/// <summary>
/// <c>backup.json</c>, written last into a backup directory: when it was taken, the consumer positions the store copy
/// holds (<see cref="StorePositions"/>), where each partition's copied log ends (<see cref="LogEnds"/>: every click
/// acknowledged before the backup started is below it), and every file with its checksum.
/// </summary>
public sealed record BackupManifest(
    int FormatVersion,
    DateTimeOffset TakenAt,
    bool Online,
    IReadOnlyDictionary<string, long> StorePositions,
    IReadOnlyDictionary<string, long> LogEnds,
    IReadOnlyList<BackupFile> Files)
{
    public const string FileName = "backup.json";
    public const int CurrentFormat = 1;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BackupManifest))]
public sealed partial class BackupJson : JsonSerializerContext;
