using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
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
    private const int MinClicksPerRound = 20;
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
        int cutByKill = 0;
        var started = DateTimeOffset.UtcNow;

        for (int round = 0; round < Rounds; round++)
        {
            await using var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, QueryApi.Environment, ct);
            using var client = host.CreateClient();
            using var stop = new CancellationTokenSource();
            int acknowledgedBefore = acknowledged.Count;
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
                        if (!stop.IsCancellationRequested)
                        {
                            Interlocked.Increment(ref cutByKill);
                        }
                    }
                }
            }, ct)).ToArray();
            // Under load: the kill comes only once this round's host has acknowledged clicks (a bounded wait, however
            // slow the machine), and then at a random moment.
            await WaitUntilAsync(() => acknowledged.Count >= acknowledgedBefore + MinClicksPerRound, $"round {round}: the host acknowledged fewer than {MinClicksPerRound} clicks (seed {seed})", ct);
            await Task.Delay(random.Next(0, 1000), ct);
            Assert.False(host.HasExited, $"round {round}: the host exited before it was killed:\n{host.Output}");
            await host.KillAsync();
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

        // Every record in the log is counted once, as a click or as an invalid (duplicate) click; so the store has
        // counted the whole log exactly when clicks + invalid clicks reach the log's length, and a record counted twice
        // shows as more. Only then are the valid clicks compared with the 302s.
        long logged = await LoggedClicksAsync(finalClient, ct);
        var from = Granularity.Day.Floor(started);
        var to = Granularity.Day.Floor(DateTimeOffset.UtcNow).AddDays(1);
        (long Clicks, long Invalid) counts = default;
        await WaitUntilAsync(async () =>
        {
            var ads = (await QueryApi.ListAsync(finalClient, "adv-1", from, to, ct)).Ads;
            counts = (ads.Sum(a => a.Clicks), ads.Sum(a => a.InvalidClicks));
            return counts.Clicks + counts.Invalid >= logged;
        }, $"the store counted fewer records than the log holds ({logged})", ct);

        Assert.True(cutByKill > 0, "no click request failed with a kill: the host was never killed while clients clicked");
        Assert.Equal(logged, counts.Clicks + counts.Invalid);
        Assert.Equal(acknowledged.Count, counts.Clicks);
    }

    /// <summary>The number of records in the local log: the sum of the partitions' next sequence numbers (/healthz).</summary>
    private static async Task<long> LoggedClicksAsync(HttpClient client, CancellationToken ct)
    {
        using var health = JsonDocument.Parse(await client.GetStringAsync(new Uri("/healthz", UriKind.Relative), ct));
        return health.RootElement.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("nextSequence").GetInt64());
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure, CancellationToken ct) =>
        WaitUntilAsync(() => Task.FromResult(condition()), failure, ct);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), failure);
            await Task.Delay(20, ct);
        }
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
