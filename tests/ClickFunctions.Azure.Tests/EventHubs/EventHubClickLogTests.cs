using Azure.Messaging.EventHubs;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.EventHubs;

public sealed class EventHubClickLogTests
{
    private static EventHubClickLog Log(RecordingProducer producer, Action<EventHubClickLogOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new EventHubClickLogOptions { FullyQualifiedNamespace = "ns.example", EventHubName = "clicks", MaxConcurrentSends = 1 };
        configure?.Invoke(options);
        return new EventHubClickLog(producer, Options.Create(options), TestClicks.Metrics(), time ?? TimeProvider.System, NullLogger<EventHubClickLog>.Instance);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    private static async Task<int> SentWhenCompleted(ValueTask append, RecordingProducer producer)
    {
        await append;
        return producer.Sent.Count;
    }

    [Fact]
    public async Task An_append_completes_only_after_Event_Hubs_acknowledged_the_send()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource() };
        await using var log = Log(producer);
        // What Event Hubs had acknowledged at the moment the append completed, read by the append's own continuation.
        var append = SentWhenCompleted(log.AppendAsync(TestClicks.Make("ad-1", "i1"), TestContext.Current.CancellationToken), producer);
        await WaitUntil(() => producer.SendsStarted == 1);
        Assert.False(append.IsCompleted);
        Assert.Empty(producer.Sent);
        producer.Gate.SetResult();
        Assert.Equal(1, await append);
    }

    [Fact]
    public async Task Concurrent_appends_share_one_send_per_partition_key()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource() };
        await using var log = Log(producer);
        var ct = TestContext.Current.CancellationToken;
        var first = log.AppendAsync(TestClicks.Make("ad-0", "first"), ct).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        // While the only send slot is busy, 60 clicks for two ads gather into the next commit.
        // Each append is in the log's queue when AppendAsync returns (the queue has room), so all 60 wait for the slot.
        var appends = Enumerable.Range(0, 60).Select(i => log.AppendAsync(TestClicks.Make(i % 2 == 0 ? "ad-1" : "ad-2", $"imp-{i}"), ct).AsTask()).ToList();
        Assert.Equal(1, producer.SendsStarted);
        producer.Gate.SetResult();
        await Task.WhenAll(appends.Append(first));

        var sends = producer.Sent.ToList();
        Assert.Equal(3, sends.Count);
        Assert.Equal(["ad-0", "ad-1", "ad-2"], sends.Select(s => s.PartitionKey).Order(StringComparer.Ordinal));
        Assert.Equal(30, sends.Single(s => s.PartitionKey == "ad-1").Events.Count);
        Assert.Equal(30, sends.Single(s => s.PartitionKey == "ad-2").Events.Count);
    }

    [Fact]
    public async Task Event_bodies_are_the_click_wire_format()
    {
        var producer = new RecordingProducer();
        await using var log = Log(producer);
        var click = TestClicks.Make("ad-1", "i1");
        await log.AppendAsync(click, TestContext.Current.CancellationToken);
        var data = Assert.Single(Assert.Single(producer.Sent).Events);
        Assert.Equal(click, ClickWireFormat.Decode(data.EventBody.ToArray()));
        Assert.Equal(1, data.Properties[EventHubClickLog.WireFormatProperty]);
    }

    [Fact]
    public async Task A_failed_send_fails_every_caller_whose_click_it_carried_as_transient()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource(), Failure = new EventHubsException(true, "clicks", "service busy", EventHubsException.FailureReason.ServiceBusy) };
        await using var log = Log(producer);
        var ct = TestContext.Current.CancellationToken;
        var first = log.AppendAsync(TestClicks.Make("ad-1", "first"), ct).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        var appends = Enumerable.Range(0, 10).Select(i => log.AppendAsync(TestClicks.Make("ad-1", $"imp-{i}"), ct).AsTask()).Append(first).ToList();
        producer.Gate.SetResult();
        foreach (var append in appends)
        {
            var error = await Assert.ThrowsAsync<ClickLogUnavailableException>(() => append);
            Assert.IsType<EventHubsException>(error.InnerException);
        }
        Assert.Empty(producer.Sent);
    }

    [Fact]
    public async Task Clicks_that_do_not_fit_one_batch_go_in_further_sends_and_all_complete()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource(), MaxEventsPerBatch = 4 };
        await using var log = Log(producer);
        var ct = TestContext.Current.CancellationToken;
        var first = log.AppendAsync(TestClicks.Make("ad-1", "first"), ct).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        var appends = Enumerable.Range(0, 10).Select(i => log.AppendAsync(TestClicks.Make("ad-1", $"imp-{i}"), ct).AsTask()).ToList();
        Assert.Equal(1, producer.SendsStarted);
        producer.Gate.SetResult();
        await Task.WhenAll(appends.Append(first));
        Assert.Equal(11, producer.Sent.Sum(s => s.Events.Count));
        Assert.All(producer.Sent, s => Assert.True(s.Events.Count <= 4));
    }

    [Fact]
    public async Task A_full_queue_makes_appends_wait_instead_of_growing()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource() };
        await using var log = Log(producer, o => { o.QueueCapacity = 2; o.MaxClicksPerCommit = 1; });
        var ct = TestContext.Current.CancellationToken;
        var inFlight = log.AppendAsync(TestClicks.Make("ad-1", "a"), ct).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        var queued = new[] { log.AppendAsync(TestClicks.Make("ad-1", "b"), ct).AsTask(), log.AppendAsync(TestClicks.Make("ad-1", "c"), ct).AsTask() };
        // The pump holds one more for its next commit while it waits for a send slot; fill the queue past that.
        var extra = log.AppendAsync(TestClicks.Make("ad-1", "d"), ct).AsTask();
        using var giveUp = new CancellationTokenSource();
        // The queue is full, so this append waits to enter it; given up, it never does. (Had it entered, it would be
        // sent below whatever its caller did.)
        var blocked = log.AppendAsync(TestClicks.Make("ad-1", "blocked"), giveUp.Token).AsTask();
        Assert.False(blocked.IsCompleted);
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        producer.Gate.SetResult();
        await Task.WhenAll(queued.Append(inFlight).Append(extra));
        var sentBodies = producer.Sent.SelectMany(s => s.Events).Select(e => ClickWireFormat.Decode(e.EventBody.ToArray()).ClickId).ToHashSet();
        Assert.DoesNotContain(TestClicks.Make("ad-1", "blocked").ClickId, sentBodies);
        Assert.Equal(4, sentBodies.Count);
    }

    [Fact]
    public async Task A_configured_hot_ad_is_salted_and_duplicates_of_a_click_share_its_partition_key()
    {
        var producer = new RecordingProducer();
        await using var log = Log(producer, o => { o.HotAds.Add("hot"); o.SaltBits = 2; o.MaxConcurrentSends = 4; });
        var ct = TestContext.Current.CancellationToken;
        var clicks = Enumerable.Range(0, 40).Select(i => TestClicks.Make("hot", $"imp-{i}")).ToList();
        foreach (var click in clicks)
        {
            await log.AppendAsync(click, ct);
        }
        await log.AppendAsync(clicks[7], ct); // a double click: same click id
        await log.AppendAsync(TestClicks.Make("cold", "x"), ct);

        var keyOf = producer.Sent.SelectMany(s => s.Events.Select(e => (s.PartitionKey, Id: ClickWireFormat.Decode(e.EventBody.ToArray()).ClickId))).ToList();
        var hotKeys = keyOf.Where(k => k.PartitionKey!.StartsWith("hot#", StringComparison.Ordinal)).Select(k => k.PartitionKey).Distinct().ToList();
        Assert.Equal(4, hotKeys.Count);
        Assert.Single(keyOf.Where(k => k.Id == clicks[7].ClickId).Select(k => k.PartitionKey).Distinct());
        Assert.Contains(keyOf, k => k.PartitionKey == "cold");
    }

    [Fact]
    public void An_ad_above_the_rate_threshold_is_salted_from_the_next_window_on()
    {
        var time = new FakeTimeProvider(TestClicks.Noon);
        var keys = new PartitionKeys(new EventHubClickLogOptions { HotAdClicksPerSecond = 10, HotAdWindow = TimeSpan.FromSeconds(1), SaltBits = 3 }, time);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal("busy", keys.For(TestClicks.Make("busy", $"a{i}"))));
        Assert.Equal("quiet", keys.For(TestClicks.Make("quiet", "q")));
        time.Advance(TimeSpan.FromSeconds(1));
        var click = TestClicks.Make("busy", "later");
        Assert.Equal(PartitionKeys.Salted("busy", click.ClickId, 3), keys.For(click));
        Assert.Equal("quiet", keys.For(TestClicks.Make("quiet", "q2")));
    }
}
