using System.CommandLine;
using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;
using DuckDB.NET.Data;
using ClickFunctions.Local.Cli;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Local;

/// <summary>
/// <c>reconcile --from --to [--data-dir]</c>: recounts [from, to) from the local log and corrects the store, or, when
/// the store is empty (deleted), rebuilds it from the log (<see cref="StoreRebuild"/>). The host must not be running on the same data directory:
/// DuckDB admits one writing process, and the command says so if the store is locked.
/// Exit codes: 0 matched, corrected or rebuilt; 2 bad arguments or window not closed; 3 gaps in the log;
/// 4 log unreadable or missing; 5 store in use; 6 the store's consumer has not counted the window yet;
/// 7 the store file has another schema version (the message says how to rebuild it from the log); 8 the window reaches
/// before what retention kept (the log, or minute buckets), or a rebuild was asked of a log retention has shortened.
/// </summary>
public sealed class ReconcileCommand : ICliCommand
{
    public const int Ok = 0, BadArguments = 2, Gaps = 3, Unreadable = 4, StoreInUse = 5, Unsettled = 6, StoreVersion = 7, NotRetained = 8;

    public Command Create()
    {
        var from = new Option<string>("--from") { Description = "Window start, ISO-8601 UTC on a whole minute (inclusive)", Required = true };
        var to = new Option<string>("--to") { Description = "Window end, ISO-8601 UTC on a whole minute (exclusive)", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory of the host (default {EmbeddedPaths.DefaultDataDirectory}); the host must not be running on it" };
        var command = new Command("reconcile", "Recounts a window of clicks from the local log and corrects the store (or rebuilds a deleted store).") { from, to, dataDir };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(from)!, result.GetValue(to)!, result.GetValue(dataDir), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string fromText, string toText, string? dataDir, CancellationToken cancellationToken)
    {
        if (!TryParseInstant(fromText, out var from) || !TryParseInstant(toText, out var to))
        {
            Console.Error.WriteLine("--from and --to must be ISO-8601 instants, e.g. 2026-11-29T12:00:00Z.");
            return BadArguments;
        }
        try
        {
            Reconciler.ValidateWindow(from, to);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return BadArguments;
        }

        using var host = LocalPaths.BuildEmbeddedServices(dataDir);
        var services = host.Services;
        var paths = services.GetRequiredService<EmbeddedPaths>();
        TimeSpan horizon;
        try
        {
            _ = services.GetRequiredService<IOptions<ReconcileOptions>>().Value;
            horizon = services.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon;
        }
        catch (OptionsValidationException e)
        {
            Console.Error.WriteLine(CliRoot.Describe(e));
            return BadArguments;
        }
        if (LocalClickLog.PartitionsIn(paths.LogDirectory).Count == 0)
        {
            Console.Error.WriteLine($"No click log at {paths.LogDirectory}: nothing to recount from.");
            return Unreadable;
        }

        DuckDbClickStore store;
        try
        {
            store = services.GetRequiredService<DuckDbClickStore>();
        }
        catch (StoreVersionException e)
        {
            Console.Error.WriteLine(e.Message);
            return StoreVersion;
        }
        catch (DuckDBException e)
        {
            Console.Error.WriteLine($"Cannot open the store {paths.StorePath} ({e.Message.ReplaceLineEndings(" ").Trim()}). Is the host running on this data directory? DuckDB allows one writing process: stop the host, then reconcile (the running host reconciles closed windows by itself).");
            return StoreInUse;
        }
        var time = services.GetRequiredService<TimeProvider>();
        var source = services.GetRequiredService<LocalLogRawSource>();
        var reports = services.GetRequiredService<ReconcileReports>();
        var reconciliation = services.GetRequiredService<EmbeddedReconciliation>();
        try
        {
            bool rebuilding = store.IsEmpty();
            await using var progress = TerminalProgress.Start(
                rebuilding ? "rebuilding the store from the log" : "recounting from the log",
                () => string.Create(CultureInfo.InvariantCulture, $"{source.EventsRead:N0} events read from {source.SegmentsRead:N0} segment files"));
            if (rebuilding)
            {
                if (ClickFunctions.Embedded.Retention.LogTrim.Describe(paths.LogDirectory) is { } trimmed)
                {
                    Console.Error.WriteLine($"reconcile: NotRetained: the store is empty, so reconcile would rebuild it from the whole log, but {trimmed}: a rebuild would count only what is left. Restore the store from a backup (restore --from DIR) instead; the log then replays what came after it.");
                    return NotRetained;
                }
                var rebuild = await new StoreRebuild(source, reports, reconciliation, horizon, time, services.GetService<ClickFunctions.Aggregation.FloodRule>())
                    .RunAsync(store, services.GetRequiredService<IOptions<ClickStoreOptions>>().Value, from, to, cancellationToken).ConfigureAwait(false);
                switch (rebuild.Outcome)
                {
                    case RebuildOutcome.Rebuilt:
                        Console.Out.WriteLine(rebuild.Report!.Summary());
                        Console.Out.WriteLine($"Report: {rebuild.ReportPath}");
                        return Ok;
                    case RebuildOutcome.Gaps:
                        return Fail(Gaps, rebuild.Report!);
                    default:
                        Console.Error.WriteLine(rebuild.Message);
                        return BadArguments;
                }
            }
            var (report, reportPath) = await reconciliation.RunAsync(from, to, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(report.Summary());
            Console.Out.WriteLine($"Report: {reportPath}");
            return report.Status switch
            {
                ReconcileStatus.Matched or ReconcileStatus.Corrected => Ok,
                ReconcileStatus.Gaps => Fail(Gaps, report),
                ReconcileStatus.Unreadable => Fail(Unreadable, report),
                ReconcileStatus.Unsettled => Fail(Unsettled, report),
                ReconcileStatus.NotRetained => Fail(NotRetained, report),
                _ => Fail(BadArguments, report),
            };
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            Console.Error.WriteLine($"The click log cannot be read: {e.Message}");
            return Unreadable;
        }
    }

    private static int Fail(int code, ReconcileReport report)
    {
        Console.Error.WriteLine($"reconcile: {report.Status}: {report.Message}");
        return code;
    }

    private static bool TryParseInstant(string text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
}
