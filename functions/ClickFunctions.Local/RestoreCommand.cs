using System.CommandLine;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Embedded.Store;

namespace ClickFunctions.Local;

/// <summary>
/// <c>restore --from DIR [--data-dir]</c>, with the host stopped: puts a backup's store in place and, per log
/// partition, keeps the data directory's surviving log when it continues the backup (the host then replays the clicks
/// that came after it) or puts the backup's log in place (<see cref="BackupRestore"/>). What it replaces is moved
/// aside, never deleted. Exit codes: 0 restored; 2 bad arguments; 4 the backup is incomplete or damaged; 5 a host is
/// running on the data directory.
/// </summary>
public sealed class RestoreCommand : ClickFunctions.Local.Cli.ICliCommand
{
    public const int Ok = 0, BadArguments = 2, Damaged = 4, HostRunning = 5;

    public Command Create()
    {
        var from = new Option<string>("--from") { Description = "A backup directory written by `backup`", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory to restore into (default {EmbeddedPaths.DefaultDataDirectory}); the host must be stopped" };
        var command = new Command("restore", "Restores a backup into a data directory (the host stopped).") { from, dataDir };
        command.SetAction((result, ct) => RunAsync(result.GetValue(from)!, result.GetValue(dataDir), ct));
        return command;
    }

    public static async Task<int> RunAsync(string from, string? dataDir, CancellationToken cancellationToken)
    {
        var paths = EmbeddedPaths.From(LocalPaths.CliConfiguration(dataDir));
        if (await OpsSocket.IsHostRunningAsync(paths.DataDirectory, cancellationToken).ConfigureAwait(false))
        {
            Console.Error.WriteLine($"A host is running on {paths.DataDirectory}: stop it, then restore.");
            return HostRunning;
        }
        if (File.Exists(paths.StorePath))
        {
            using var store = OpsSocket.TryOpenStore(paths.StorePath, out string? problem);
            // A store of another version is not ours to open, but not locked either: it is moved aside like any other.
            if (store is null && problem!.Contains("in use", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"restore: {problem}: stop the host, then restore.");
                return HostRunning;
            }
        }
        try
        {
            var result = BackupRestore.Restore(from, paths, TimeProvider.System);
            Console.Out.WriteLine($"restored the backup taken at {result.Manifest.TakenAt:O} into {paths.DataDirectory}");
            foreach (var (partition, decision) in result.Partitions.OrderBy(p => p.Key))
            {
                Console.Out.WriteLine($"  partition {partition}: {decision}");
            }
            foreach (string aside in result.MovedAside)
            {
                Console.Out.WriteLine($"  moved aside: {aside}");
            }
            return Ok;
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"restore: {e.Message}");
            return Damaged;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"restore failed: {e.Message}");
            return BadArguments;
        }
    }
}
