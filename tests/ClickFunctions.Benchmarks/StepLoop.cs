using System.Diagnostics;
using System.Globalization;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// `step-loop [batch] [ads] [dims] [seconds] [before]`: the aggregation step alone, run over one row's 200,000 events
/// again and again for a while, for a profiler to attach to (`perf record` with <c>DOTNET_PerfMapEnabled=1</c>, or
/// dotnet-trace). Prints each pass's time per event and the process's GC counts, and at the end which types the
/// runtime's allocation ticks (one per ~100 KB allocated) named most; a profile, not a benchmark.
/// </summary>
public static class StepLoop
{
    public static int Run(string[] args)
    {
        int batch = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        int ads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        bool dims = args.Length > 2 && bool.Parse(args[2]);
        double seconds = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 20;
        bool before = args.Length > 4 && args[4] == "before";
        var b = new AggregationStepBenchmark { BatchSize = batch, DistinctAds = ads, WithDimensions = dims };
        b.Setup();
        Console.WriteLine($"step-loop BatchSize={batch} DistinctAds={ads} WithDimensions={dims} ({(before ? "baseline" : "step")}); load average: {Interleaved.LoadAverage()}");
        using var ticks = new AllocationTicks();
        var total = Stopwatch.StartNew();
        var times = new List<double>();
        var cpuTimes = new List<double>();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            b.ResetClaims();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            double cpu = Interleaved.CpuSeconds();
            var sw = Stopwatch.StartNew();
            _ = before ? b.Before().GetAwaiter().GetResult() : b.AggregateEvents().GetAwaiter().GetResult();
            double ns = sw.Elapsed.TotalNanoseconds / 200_000;
            times.Add(ns);
            cpuTimes.Add((Interleaved.CpuSeconds() - cpu) * 1e9 / 200_000);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ns:F0} ns/event, {(GC.GetAllocatedBytesForCurrentThread() - allocated) / 200_000.0:F0} B/event; GCs gen0/1/2 so far {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median {Interleaved.Median(times):F0} ns/event ({Interleaved.Median(cpuTimes):F0} ns of the process's CPU time) over {times.Count} passes; load average: {Interleaved.LoadAverage()}"));
        foreach (var (type, bytes) in ticks.Top(8))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  allocated (ticks) {bytes / 1e6,10:F1} MB  {type}"));
        }
        return 0;
    }
}

/// <summary>The runtime's GCAllocationTick events (keyword GC, verbose), summed by type name.</summary>
internal sealed class AllocationTicks : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _bytes = [];
    private readonly Lock _gate = new();

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }
        int t = eventData.PayloadNames.IndexOf("TypeName"), a = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (t < 0 || a < 0)
        {
            return;
        }
        string type = eventData.Payload[t] as string ?? "?";
        long bytes = Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + bytes;
        }
    }

    public List<(string Type, long Bytes)> Top(int n)
    {
        lock (_gate)
        {
            return [.. _bytes.OrderByDescending(p => p.Value).Take(n).Select(p => (p.Key, p.Value))];
        }
    }
}
