using System.CommandLine;
using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Local;

/// <summary>
/// <c>erase --click-id ID | --from T --to T [--data-dir]</c>, with the host stopped: removes the clicks from the log's
/// raw records (tombstones at their sequence numbers) and from the store's counts and claims, and writes a report
/// (<see cref="ClickErasure"/>). Exit codes: 0 erased (the report says what); 2 bad arguments; 3 the log is erased but
/// a window could not be reconciled yet (the message says why; run the same erase again); 5 the host is running (the
/// message says why erasure is offline and what to do: <see cref="HostRunningMessage"/>).
/// </summary>
public sealed class EraseCommand : ClickFunctions.Local.Cli.ICliCommand
{
    public const int Ok = 0, BadArguments = 2, Incomplete = 3, HostRunning = 5;

    public Command Create()
    {
        var clickId = new Option<string?>("--click-id") { Description = "The click id to erase (32 hex digits, as the landing URL's click id parameter carries it)" };
        var from = new Option<string?>("--from") { Description = "Erase clicks at or after this instant (ISO-8601 UTC, a whole minute)" };
        var to = new Option<string?>("--to") { Description = "...and before this one" };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory (default {EmbeddedPaths.DefaultDataDirectory}); the host must be stopped" };
        var command = new Command("erase", "Erases the clicks of one click id or one time range from the log and the store, with a report.") { clickId, from, to, dataDir };
        command.SetAction((result, ct) => RunAsync(result.GetValue(clickId), result.GetValue(from), result.GetValue(to), result.GetValue(dataDir), ct));
        return command;
    }

    private static async Task<int> RunAsync(string? clickIdText, string? fromText, string? toText, string? dataDir, CancellationToken cancellationToken)
    {
        ErasureRequest request;
        if (clickIdText is not null && fromText is null && toText is null)
        {
            if (!ClickId.TryParse(clickIdText, out var id))
            {
                Console.Error.WriteLine("--click-id must be 32 hexadecimal digits.");
                return BadArguments;
            }
            request = ErasureRequest.ForClickId(id);
        }
        else if (clickIdText is null && TryParseMinute(fromText, out var start) && TryParseMinute(toText, out var end) && start < end)
        {
            request = ErasureRequest.ForRange(start, end);
        }
        else
        {
            Console.Error.WriteLine("Give either --click-id ID, or --from and --to (ISO-8601 UTC on whole minutes, from before to).");
            return BadArguments;
        }

        using var host = LocalPaths.BuildEmbeddedServices(dataDir);
        var services = host.Services;
        var paths = services.GetRequiredService<EmbeddedPaths>();
        if (await OpsSocket.IsHostRunningAsync(paths.DataDirectory, cancellationToken).ConfigureAwait(false))
        {
            Console.Error.WriteLine(HostRunningMessage(paths.DataDirectory));
            return HostRunning;
        }
        DuckDbClickStore store;
        try
        {
            store = services.GetRequiredService<DuckDbClickStore>();
        }
        catch (DuckDBException e)
        {
            Console.Error.WriteLine($"Cannot open the store {paths.StorePath}: {e.Message}.");
            Console.Error.WriteLine(HostRunningMessage(paths.DataDirectory));
            return HostRunning;
        }
        var erasure = new ClickErasure(store, services.GetRequiredService<EmbeddedReconciliation>(), paths,
            services.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon, services.GetRequiredService<TimeProvider>());
        try
        {
            var (report, path) = await erasure.RunAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var window in report.Windows)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  recount [{window.From:O}, {window.To:O}): {window.Status} (|Δclicks| {window.ClickDifference}, |Δinvalid| {window.InvalidDifference}) {window.Message}"));
            }
            if (report.FinishedAt is null)
            {
                Console.Error.WriteLine($"erase: incomplete: {report.Message}");
                Console.Error.WriteLine($"Journal: {path}");
                return Incomplete;
            }
            Console.Out.WriteLine(report.Message);
            Console.Out.WriteLine($"Report: {path}");
            return Ok;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine(e.Message);
            return BadArguments;
        }
    }

    /// <summary>
    /// Erasure is offline by design (docs/operations.md, "Erasing clicks"): it rewrites sealed log segments and the
    /// store's counts together, which the running host's log writer, consumer and reconciler would race.
    /// </summary>
    public static string HostRunningMessage(string dataDirectory) =>
        $"erase needs the host stopped, and a host is running on {dataDirectory}. Erasure rewrites the log's sealed segments and the store's counts together, "
        + "which the running host's log writer, consumer and reconciler would race, so it never runs beside them. Stop the host "
        + "(systemctl stop clickfunctions: its graceful stop commits every acknowledged click), run the same erase again, then start the host; "
        + "clicks arriving meanwhile are refused by the proxy (502), not lost after a 302.";

    private static bool TryParseMinute(string? text, out DateTimeOffset instant)
    {
        instant = default;
        return text is not null
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant)
            && instant.UtcTicks % TimeSpan.TicksPerMinute == 0;
    }
}
