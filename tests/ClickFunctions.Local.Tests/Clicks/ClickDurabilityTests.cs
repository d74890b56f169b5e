using System.Collections.Concurrent;
using System.Net;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Ports;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests.Clicks;

/// <summary>Durable before redirect, checked on the real process: every click that got a 302 survives kill -9.</summary>
public sealed class ClickDurabilityTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-durable-").FullName;
    private readonly TestKeys _keys = TestKeys.Create();

    private static ClickUrlFields Fields(string run, int i) =>
        new("ad-" + (i % 50), "adv-1", "https://shop.example/p", null, $"{run}-{i}");

    private HashSet<ClickId> LoggedClickIds(out int events)
    {
        var all = new List<RawEvent>();
        foreach (int partition in LocalClickLog.PartitionsIn(Path.Combine(_dataDirectory, "log")))
        {
            using var reader = LocalClickLog.OpenOfflineReader(Path.Combine(_dataDirectory, "log"), partition, 0);
            while (reader.Read(all, 100_000) > 0)
            {
            }
        }
        events = all.Count;
        return [.. all.Select(e => ClickWireFormat.Decode(e.Body.Span).ClickId)];
    }

    [Fact]
    public async Task After_kill_9_the_log_holds_exactly_the_clicks_that_got_a_302()
    {
        const int clicks = 600;
        var ct = TestContext.Current.CancellationToken;
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, cancellationToken: ct))
        {
            using var client = host.CreateClient();
            using var gate = new SemaphoreSlim(64);
            var statuses = await Task.WhenAll(Enumerable.Range(0, clicks).Select(async i =>
            {
                await gate.WaitAsync(ct);
                try
                {
                    using var response = await client.GetAsync(_keys.ClickPath(Fields("a", i)), ct);
                    return response.StatusCode;
                }
                finally
                {
                    gate.Release();
                }
            }));
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Found, s));
            await host.KillAsync();
        }

        // Restart on the same data directory: recovery runs, and the log must be readable and exact.
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, cancellationToken: ct))
        {
            await host.StopAsync();
        }
        var logged = LoggedClickIds(out int events);
        Assert.Equal(clicks, events);
        Assert.Equal(Enumerable.Range(0, clicks).Select(i => ClickId.FromImpression("adv-1", Fields("a", i).AdId, $"a-{i}")).ToHashSet(), logged);
    }

    [Fact]
    public async Task Killing_the_host_in_the_middle_of_concurrent_clicks_loses_no_acknowledged_click_and_leaves_no_torn_record()
    {
        var ct = TestContext.Current.CancellationToken;
        var acknowledged = new ConcurrentBag<ClickId>();
        var sent = new ConcurrentBag<ClickId>();
        var random = new Random(20261129);
        for (int round = 0; round < 3; round++)
        {
            await using var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, cancellationToken: ct);
            using var client = host.CreateClient();
            using var stop = new CancellationTokenSource();
            int next = 0;
            int roundAcknowledged = 0;
            var workers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    int i = Interlocked.Increment(ref next);
                    var fields = Fields($"r{round}", i);
                    var id = ClickId.FromImpression(fields.AdvertiserId, fields.AdId, fields.ImpressionId!);
                    sent.Add(id);
                    try
                    {
                        using var response = await client.GetAsync(_keys.ClickPath(fields), stop.Token);
                        if (response.StatusCode == HttpStatusCode.Found)
                        {
                            acknowledged.Add(id);
                            Interlocked.Increment(ref roundAcknowledged);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                    {
                        // The process died under this request: no 302, so no promise was made.
                    }
                }
            }, CancellationToken.None)).ToArray();
            // Kill after a random number of 302s rather than a random time: on a loaded machine a host can take
            // longer than any fixed delay to answer its first click (issue 12 finding 9). Bounded, so a host that
            // answers nothing fails the test instead of hanging it.
            int target = random.Next(10, 150);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref roundAcknowledged) < target && waited.Elapsed < TimeSpan.FromSeconds(120) && !workers.All(w => w.IsCompleted))
            {
                await Task.Delay(5, ct);
            }
            Assert.True(Volatile.Read(ref roundAcknowledged) >= target, $"round {round}: {roundAcknowledged} of {target} clicks acknowledged within 120 s\n{host.Output}");
            await host.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, cancellationToken: ct))
        {
            await host.StopAsync();
        }

        var logged = LoggedClickIds(out int events);
        Assert.NotEmpty(acknowledged);
        Assert.Subset(logged, acknowledged.ToHashSet());
        Assert.Equal(logged.Count, events); // no record appears twice
        Assert.Subset(sent.ToHashSet(), logged);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
