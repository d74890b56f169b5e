using System.Diagnostics;
using System.Globalization;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// `interleaved [rounds]`: the old and the new implementation of the aggregation step and of click enrichment,
/// alternated in one process, round after round, so that both see the same machine load (a shared machine's load
/// changes from one BenchmarkDotNet benchmark to the next, which biases its ratios). Prints each row's medians and
/// the median of the per-round ratios. The BenchmarkDotNet classes stay the reference; this is their quick, fair
/// companion on a busy machine. Beside the wall-clock time it prints the process's CPU time per operation (Linux),
/// which on a shared machine leaves out the time other processes held the cores.
/// </summary>
public static class Interleaved
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        Console.WriteLine($"interleaved, {rounds} rounds; load average at start: {LoadAverage()}");
        foreach (int batch in (int[])[1_000, 20_000])
        {
            foreach (int ads in (int[])[1_000, 100_000])
            {
                foreach (bool dims in (bool[])[false, true])
                {
                    var b = new AggregationStepBenchmark { BatchSize = batch, DistinctAds = ads, WithDimensions = dims };
                    b.Setup();
                    Compare($"aggregation BatchSize={batch} DistinctAds={ads} WithDimensions={dims}", rounds, 200_000,
                        () => b.Before().GetAwaiter().GetResult(), () => b.AggregateEvents().GetAwaiter().GetResult(), "events/s", b.ResetClaims);
                }
            }
        }
        using var e = new ClickEnrichmentBenchmark();
        e.Setup();
        const int Clicks = 20_000;
        Compare("enrichment, six user agents", rounds, Clicks, () => Repeat(Clicks, () => e.Before()), () => Repeat(Clicks, () => e.OneClick()), "clicks/s");
        Compare("enrichment, every user agent new (new only; the old has no cache)", rounds, Clicks, () => Repeat(Clicks, () => e.Before()), () => Repeat(Clicks, () => e.NewUserAgent()), "clicks/s");
        Console.WriteLine($"load average at end: {LoadAverage()}");
        return 0;
    }

    private static int Repeat<T>(int n, Func<T> f)
    {
        for (int i = 0; i < n; i++)
        {
            f();
        }
        return n;
    }

    private static void Compare<T1, T2>(string name, int rounds, int operations, Func<T1> before, Func<T2> after, string unit, Action? setup = null)
    {
        setup?.Invoke();
        before();
        setup?.Invoke();
        after(); // warm-up (JIT, caches)
        var old = new List<double>();
        var now = new List<double>();
        var ratios = new List<double>();
        var oldCpu = new List<double>();
        var nowCpu = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            setup?.Invoke(); // outside the timing, as BenchmarkDotNet's [IterationSetup]
            var (o, oc) = Time(before);
            setup?.Invoke();
            var (n, nc) = Time(after);
            old.Add(o / operations);
            now.Add(n / operations);
            ratios.Add(n / o);
            oldCpu.Add(oc / operations);
            nowCpu.Add(nc / operations);
        }
        double mo = Median(old), mn = Median(now);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: before {mo * 1e9:F0} ns/op ({1 / mo / 1e6:F2} M {unit}), after {mn * 1e9:F0} ns/op ({1 / mn / 1e6:F2} M {unit}), ratio after/before {Median(ratios):F2} (median of {rounds} rounds)"));
        if (CpuSeconds() > 0)
        {
            double co = Median(oldCpu), cn = Median(nowCpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    CPU time of the process: before {co * 1e9:F0} ns/op ({1 / co / 1e6:F2} M {unit} per CPU-second), after {cn * 1e9:F0} ns/op ({1 / cn / 1e6:F2} M {unit} per CPU-second)"));
        }
    }

    /// <summary>
    /// Wall-clock seconds, and the CPU seconds the whole process spent (every thread: the collector's and the JIT's
    /// too). On a shared machine the first counts the time others held the cores; the second is the work itself.
    /// </summary>
    private static (double Wall, double Cpu) Time<T>(Func<T> f)
    {
        double cpu = CpuSeconds();
        var sw = Stopwatch.StartNew();
        f();
        return (sw.Elapsed.TotalSeconds, CpuSeconds() - cpu);
    }

    /// <summary>CLOCK_PROCESS_CPUTIME_ID on Linux (nanosecond resolution); 0 elsewhere.</summary>
    internal static double CpuSeconds()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(2, out var t) != 0)
        {
            return 0;
        }
        return t.Seconds + t.Nanoseconds / 1e9;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
}
