using System.CommandLine;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Embedded.Store;

namespace ClickFunctions.Local;

/// <summary>
/// <c>backup --to DIR [--data-dir]</c>: a consistent copy of the store and the log (<see cref="BackupWriter"/>). With the
/// host running on the data directory it asks the host over its operations socket (<see cref="OpsSocket"/>), which
/// keeps taking clicks meanwhile; with no host it copies the directory itself.
/// Exit codes: 0 written; 2 bad arguments; 4 the backup failed (the message says why); 5 the store is locked by a
/// process that does not answer on the operations socket.
/// </summary>
public sealed class BackupCommand : ClickFunctions.Local.Cli.ICliCommand
{
    public const int Ok = 0, BadArguments = 2, Failed = 4, StoreInUse = 5;

    public Command Create()
    {
        var to = new Option<string>("--to") { Description = "A new directory to write the backup into (must not exist)", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory of the host (default {EmbeddedPaths.DefaultDataDirectory})" };
        var command = new Command("backup", "Writes a consistent backup of the store and the log, online when the host runs.") { to, dataDir };
        command.SetAction((result, ct) => RunAsync(result.GetValue(to)!, result.GetValue(dataDir), ct));
        return command;
    }

    public static async Task<int> RunAsync(string to, string? dataDir, CancellationToken cancellationToken)
    {
        var paths = EmbeddedPaths.From(LocalPaths.CliConfiguration(dataDir));
        string destination = Path.GetFullPath(to);
        var online = await OpsSocket.SendAsync(paths.DataDirectory, new OpsRequest("backup", destination), cancellationToken).ConfigureAwait(false);
        if (online is not null)
        {
            return Report(online);
        }
        if (!File.Exists(paths.StorePath))
        {
            Console.Error.WriteLine($"No store at {paths.StorePath}: nothing to back up.");
            return BadArguments;
        }
        if (OpsSocket.TryOpenStore(paths.StorePath, out string? problem) is not { } store)
        {
            Console.Error.WriteLine($"backup: {problem}");
            bool locked = problem!.Contains("in use", StringComparison.Ordinal);
            if (locked)
            {
                Console.Error.WriteLine($"A process holds it but no host answers on {OpsSocket.PathIn(paths.DataDirectory)}; is a reconcile running?");
            }
            return locked ? StoreInUse : Failed;
        }
        using (store)
        {
            try
            {
                var manifest = BackupWriter.Write(store, null, paths.LogDirectory, destination, TimeProvider.System);
                return Report(new OpsResponse(true, $"backup written to {destination} (offline: no host was running)", manifest));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                return Report(new OpsResponse(false, e.Message));
            }
        }
    }

    private static int Report(OpsResponse response)
    {
        if (!response.Ok)
        {
            Console.Error.WriteLine($"backup failed: {response.Message}");
            return Failed;
        }
        Console.Out.WriteLine(response.Message);
        if (response.Manifest is { } m)
        {
            Console.Out.WriteLine($"  store positions: {string.Join(", ", m.StorePositions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"))}");
            Console.Out.WriteLine($"  log ends:        {string.Join(", ", m.LogEnds.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"))}");
            Console.Out.WriteLine($"  files:           {m.Files.Count} ({m.Files.Sum(f => f.Bytes):N0} bytes)");
        }
        return Ok;
    }
}
