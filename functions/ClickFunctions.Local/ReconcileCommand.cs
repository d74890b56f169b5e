using System.CommandLine;
using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Local;

/// <summary>
/// <c>reconcile --from --to [--data-dir]</c>: recounts [from, to) from the local log and corrects the store, or, when
/// the store is empty (deleted), rebuilds it from the log. The host must not be running on the same data directory:
/// DuckDB admits one writing process, and the command says so if the store is locked.
/// Exit codes: 0 matched, corrected or rebuilt; 2 bad arguments or window not closed; 3 gaps in the log;
/// 4 log unreadable or missing; 5 store in use; 6 the store's consumer has not counted the window yet.
/// </summary>
public static class ReconcileCommand
{
    public const int Ok = 0, BadArguments = 2, Gaps = 3, Unreadable = 4, StoreInUse = 5, Unsettled = 6;

    public static async Task<int> RunAsync(string[] args)
    {
        var from = new Option<string>("--from") { Description = "Window start, ISO-8601 UTC on a whole minute (inclusive)", Required = true };
        var to = new Option<string>("--to") { Description = "Window end, ISO-8601 UTC on a whole minute (exclusive)", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory of the host (default {EmbeddedPaths.DefaultDataDirectory}); the host must not be running on it" };
        var command = new RootCommand("Recounts a window of clicks from the local log and corrects the store (or rebuilds a deleted store).") { from, to, dataDir };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(from)!, result.GetValue(to)!, result.GetValue(dataDir), cancellationToken));
        return await command.Parse(args).InvokeAsync().ConfigureAwait(false);
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

        // The embedded wiring, built but not started: none of the host's background services (consumer, periodic
        // reconciler) run, and only what this command resolves is created.
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Configuration = LocalPaths.CliConfiguration(dataDir) });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.AddEmbeddedAdapters();
        using var host = builder.Build();
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
            Console.Error.WriteLine(e.Message);
            return BadArguments;
        }
        if (LocalClickLog.PartitionsIn(paths.LogDirectory).Count == 0)
        {
            Console.Error.WriteLine($"No click log at {paths.LogDirectory}: nothing to recount from.");
            return Unreadable;
        }

        try
        {
            _ = services.GetRequiredService<DuckDbClickStore>();
        }
        catch (DuckDBException e)
        {
            Console.Error.WriteLine($"Cannot open the store {paths.StorePath}: {e.Message}");
            Console.Error.WriteLine("Is the host running on this data directory? DuckDB allows one writing process: stop the host, then reconcile (the running host reconciles closed windows by itself).");
            return StoreInUse;
        }
        var time = services.GetRequiredService<TimeProvider>();
        var source = services.GetRequiredService<LocalLogRawSource>();
        var corrections = services.GetRequiredService<DuckDbBucketCorrections>();
        var reports = services.GetRequiredService<ReconcileReports>();
        var reconciliation = services.GetRequiredService<EmbeddedReconciliation>();
        try
        {
            if (corrections.IsEmpty())
            {
                return await RebuildAsync(reconciliation, source, corrections, reports, from, to, horizon, time, cancellationToken).ConfigureAwait(false);
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
                _ => Fail(BadArguments, report),
            };
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            Console.Error.WriteLine($"The click log cannot be read: {e.Message}");
            return Unreadable;
        }
    }

    /// <summary>
    /// An empty store (deleted, or never run): recount the whole log and fill the store with its buckets, claims and the
    /// consumer positions at the log's end, but only if [from, to) holds every click of the log; a partial rebuild
    /// would leave the consumer either recounting or skipping the rest.
    /// </summary>
    private static async Task<int> RebuildAsync(
        EmbeddedReconciliation reconciliation, LocalLogRawSource source, DuckDbBucketCorrections corrections, ReconcileReports reports,
        DateTimeOffset from, DateTimeOffset to, TimeSpan horizon, TimeProvider time, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        var recount = await ClickRecount.RunAsync(source.ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, cancellationToken), from, to, horizon, cancellationToken).ConfigureAwait(false);
        var report = new ReconcileReport
        {
            From = from,
            To = to,
            Status = ReconcileStatus.Gaps,
            ReadFrom = DateTimeOffset.MinValue,
            ReadTo = DateTimeOffset.MaxValue,
        }.WithRecount(recount);
        if (recount.Gaps.Count > 0)
        {
            report = report with { Message = $"the store is empty and the log has {recount.Gaps.Count} sequence gaps; nothing rebuilt", DurationMs = time.GetElapsedTime(started).TotalMilliseconds };
            reports.Write(report);
            reconciliation.LogSummary(report);
            return Fail(Gaps, report);
        }
        if (recount.FirstClick is { } first && recount.LastClick is { } last && (first < from || last >= to))
        {
            var suggestFrom = Clicks.TimeBuckets.FloorToMinute(first);
            var suggestTo = Clicks.TimeBuckets.FloorToMinute(last).AddMinutes(1);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"The store is empty (deleted or new), so reconcile rebuilds it, and a rebuild must cover the whole log: it holds clicks from {first:O} to {last:O}. Run: reconcile --from {suggestFrom:yyyy-MM-ddTHH:mm:ssZ} --to {suggestTo:yyyy-MM-ddTHH:mm:ssZ}"));
            return BadArguments;
        }
        corrections.Rebuild(recount);
        report = report with
        {
            Status = ReconcileStatus.Corrected,
            Message = $"rebuilt an empty store from the whole log: {recount.Buckets.Count} minute buckets, {recount.Claims.Count} claims, consumer positions {string.Join(", ", recount.NextSequences.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"))}",
            KeysCompared = recount.Buckets.Count,
            KeysCorrected = recount.Buckets.Count,
            AbsoluteClickDifference = recount.Buckets.Values.Sum(b => b.Clicks),
            AbsoluteInvalidClickDifference = recount.Buckets.Values.Sum(b => b.InvalidClicks),
            DurationMs = time.GetElapsedTime(started).TotalMilliseconds,
        };
        string path = reports.Write(report);
        reconciliation.LogSummary(report);
        Console.Out.WriteLine(report.Summary());
        Console.Out.WriteLine($"Report: {path}");
        return Ok;
    }

    private static int Fail(int code, ReconcileReport report)
    {
        Console.Error.WriteLine($"reconcile: {report.Status}: {report.Message}");
        return code;
    }

    private static bool TryParseInstant(string text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
}
