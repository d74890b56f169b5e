using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ClickFunctions.Queries;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>
/// Exactly-once counts on the real process: the host is killed with SIGKILL at random moments while clients click,
/// and restarted on the same data directory each time; afterwards the query API counts every click that got a 302
/// exactly once, with no reconciliation.
/// </summary>
public sealed class AggregationCrashTests : IDisposable
{
    private const int Rounds = 12;
    private const int Clients = 8;
    private const int Ads = 20;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-agg-crash-").FullName;
    private readonly TestKeys _keys = TestKeys.Create();

    private string ClickPath(int n) =>
        _keys.ClickPath(new ClickUrlFields("ad-" + (n % Ads), "adv-1", "https://shop.example/landing", "cmp-1", "c-" + n));

    [Fact]
    public async Task Killing_the_host_at_random_moments_under_load_neither_loses_nor_double_counts_a_click()
    {
        var ct = TestContext.Current.CancellationToken;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var attempted = new ConcurrentDictionary<int, bool>();
        var acknowledged = new ConcurrentDictionary<int, bool>();
        var acknowledgedList = new List<int>();
        int next = 0;
        int kills = 0;
        var started = DateTimeOffset.UtcNow;

        for (int round = 0; round < Rounds; round++)
        {
            await using var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, QueryApi.Environment, ct);
            using var client = host.CreateClient();
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, Clients).Select(w => Task.Run(async () =>
            {
                var local = new Random(seed + w + round * 100);
                while (!stop.IsCancellationRequested)
                {
                    int n;
                    lock (acknowledgedList)
                    {
                        // One click in ten repeats an acknowledged one (a double click, possibly across a crash).
                        n = acknowledgedList.Count > 0 && local.Next(10) == 0
                            ? acknowledgedList[local.Next(acknowledgedList.Count)]
                            : Interlocked.Increment(ref next);
                    }
                    attempted[n] = true;
                    try
                    {
                        if (await QueryApi.ClickAsync(client, ClickPath(n), stop.Token) == HttpStatusCode.Found && acknowledged.TryAdd(n, true))
                        {
                            lock (acknowledgedList)
                            {
                                acknowledgedList.Add(n);
                            }
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                    {
                        // The host died under this request: the click may or may not be in the log.
                    }
                }
            }, ct)).ToArray();
            await Task.Delay(random.Next(300, 1500), ct);
            await host.KillAsync();
            kills++;
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        await using var final = await LocalHostProcess.StartAsync(_dataDirectory, _keys, QueryApi.Environment, ct);
        using var finalClient = final.CreateClient();
        // A click whose request died with the host is retried by its client, as a browser would; its id is the same.
        foreach (int n in attempted.Keys.Where(n => !acknowledged.ContainsKey(n)))
        {
            Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(finalClient, ClickPath(n), ct));
            acknowledged.TryAdd(n, true);
        }
        var from = Granularity.Day.Floor(started);
        var to = Granularity.Day.Floor(DateTimeOffset.UtcNow).AddDays(1);
        long counted = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            counted = (await QueryApi.ListAsync(finalClient, "adv-1", from, to, ct)).Ads.Sum(a => a.Clicks);
            if (counted >= acknowledged.Count)
            {
                break;
            }
            await Task.Delay(50, ct);
        }
        await Task.Delay(500, ct);
        long settled = (await QueryApi.ListAsync(finalClient, "adv-1", from, to, ct)).Ads.Sum(a => a.Clicks);

        Assert.True(kills >= 10);
        Assert.True(acknowledged.Count > 500, $"only {acknowledged.Count} clicks acknowledged (seed {seed})");
        Assert.Equal(acknowledged.Count, counted);
        Assert.Equal(acknowledged.Count, settled);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
