using System.Diagnostics;
using System.Globalization;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// `interleaved [rounds]`: the old and the new implementation of the aggregation step and of click enrichment,
/// alternated in one process, round after round, so that both see the same machine load (a shared machine's load
/// changes from one BenchmarkDotNet benchmark to the next, which biases its ratios). Prints each row's medians and
/// the median of the per-round ratios. The BenchmarkDotNet classes stay the reference; this is their quick, fair
/// companion on a busy machine.
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
        for (int r = 0; r < rounds; r++)
        {
            setup?.Invoke(); // outside the timing, as BenchmarkDotNet's [IterationSetup]
            double o = Time(before) / operations;
            setup?.Invoke();
            double n = Time(after) / operations;
            old.Add(o);
            now.Add(n);
            ratios.Add(n / o);
        }
        double mo = Median(old), mn = Median(now);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: before {mo * 1e9:F0} ns/op ({1 / mo / 1e6:F2} M {unit}), after {mn * 1e9:F0} ns/op ({1 / mn / 1e6:F2} M {unit}), ratio after/before {Median(ratios):F2} (median of {rounds} rounds)"));
    }

    private static double Time<T>(Func<T> f)
    {
        var sw = Stopwatch.StartNew();
        f();
        return sw.Elapsed.TotalSeconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
}
