using System.Collections.Concurrent;
using System.Net;
using ClickFunctions.Clicks;
using ClickFunctions.Queries;
using ClickFunctions.Signing;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// What the systemd unit's graceful stop relies on (ops/systemd, docs/operations.md): SIGTERM to the real host while
/// clicks are being posted; after a restart every click that got its 302 is counted and none twice. Also: `erase`
/// against the running host refuses with why erasure is offline and what to do.
/// </summary>
public sealed class GracefulStopTests : IDisposable
{
    private const int Ads = 20;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-graceful-").FullName;
    private readonly TestKeys _keys = TestKeys.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string ClickPath(int i) =>
        _keys.ClickPath(new ClickUrlFields("ad-" + (i % Ads), "adv-1", "https://shop.example/landing", "cmp-1", "imp-" + i));

    private static async Task<long> TotalAsync(HttpClient client, DateTimeOffset from) =>
        (await QueryApi.ListAsync(client, "adv-1", from, TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(2), Ct)).Ads.Sum(a => a.Clicks);

    [Fact]
    public async Task Sigterm_under_load_loses_no_acknowledged_click_and_counts_none_twice_after_a_restart()
    {
        var from = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(-1);
        var acknowledged = new ConcurrentDictionary<int, bool>();
        int sent = 0;
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, QueryApi.Environment, Ct))
        {
            // Erasure is offline: against a running host the CLI says why and what to do, and changes nothing.
            var erase = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["erase", "--click-id", new string('0', 32), "--data-dir", _dataDirectory], Ct, workingDirectory: _dataDirectory);
            Assert.True(erase.ExitCode == 5, erase.Output);
            Assert.Contains("erase needs the host stopped", erase.Stderr, StringComparison.Ordinal);
            Assert.Contains("systemctl stop", erase.Stderr, StringComparison.Ordinal);

            using var client = host.CreateClient();
            using var stop = new CancellationTokenSource();
            async Task Worker()
            {
                while (!stop.IsCancellationRequested)
                {
                    int i = Interlocked.Increment(ref sent);
                    try
                    {
                        if (await QueryApi.ClickAsync(client, ClickPath(i), stop.Token) == HttpStatusCode.Found)
                        {
                            acknowledged[i] = true;
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                    {
                        if (host.HasExited)
                        {
                            return;
                        }
                    }
                }
            }
            var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(Worker, Ct)).ToList();
            // Bounded poll: SIGTERM once the load is well under way, while requests are in flight.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (acknowledged.Count < 2_000 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, Ct);
            }
            Assert.True(acknowledged.Count >= 2_000, $"only {acknowledged.Count} clicks acknowledged in 60 s");
            await host.StopAsync();
            Assert.True(host.HasExited);
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        int acked = acknowledged.Count;
        Assert.True(acked < sent, "the stop came while clicks were still being posted");

        await using var restarted = await LocalHostProcess.StartAsync(_dataDirectory, _keys, QueryApi.Environment, Ct);
        using var reader = restarted.CreateClient();
        long total = 0;
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until && (total = await TotalAsync(reader, from)) < acked)
        {
            await Task.Delay(100, Ct); // an interval under the query API's per-key rate limit
        }
        // Every acknowledged click counted; at most the ones whose 302 the stop cut off besides; none twice.
        Assert.True(total >= acked, $"{total} counted after the restart, {acked} were acknowledged");
        var clicks = await QueryApi.ListAsync(reader, "adv-1", from, TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(2), Ct);
        Assert.True(total <= sent, $"{total} counted, only {sent} distinct clicks were ever sent");
        Assert.All(clicks.Ads, a => Assert.Equal(0, a.InvalidClicks)); // a click counted twice would be a duplicate
        Assert.True(total - acked <= 16, $"{total - acked} more counted than acknowledged: at most one in flight per worker when the host stopped");
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
