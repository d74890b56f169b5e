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
    public async Task Concurrent_appends_share_one_send_per_partition_and_each_goes_to_its_click_ids_partition()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource(), PartitionCount = 4 };
        await using var log = Log(producer);
        var ct = TestContext.Current.CancellationToken;
        var first = log.AppendAsync(TestClicks.Make("ad-0", "first"), ct).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        // While the only send slot is busy, 60 clicks of two ads gather into the next commit: one send per partition.
        // Each append is in the log's queue when AppendAsync returns (the queue has room), so all 60 wait for the slot.
        var clicks = Enumerable.Range(0, 60).Select(i => TestClicks.Make(i % 2 == 0 ? "ad-1" : "ad-2", $"imp-{i}")).ToList();
        var appends = clicks.Select(c => log.AppendAsync(c, ct).AsTask()).ToList();
        Assert.Equal(1, producer.SendsStarted);
        producer.Gate.SetResult();
        await Task.WhenAll(appends.Append(first));

        var sends = producer.Sent.ToList();
        Assert.Equal(1 + clicks.Select(c => ClickPartitions.IndexOf(c.ClickId, 4)).Distinct().Count(), sends.Count);
        Assert.All(sends, s => Assert.All(s.Events, e =>
            Assert.Equal(ClickPartitions.IndexOf(ClickWireFormat.Decode(e.EventBody.ToArray()).ClickId, 4).ToString(System.Globalization.CultureInfo.InvariantCulture), s.PartitionId)));
        Assert.Equal(61, sends.Sum(s => s.Events.Count));
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
        Assert.Equal((int)ClickWireFormat.CurrentVersion, data.Properties[EventHubClickLog.WireFormatProperty]);
    }

    [Fact]
    public async Task A_failed_send_fails_every_caller_whose_click_it_carried_as_transient()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource(), Failure = new EventHubsException(true, "clicks", "service busy", EventHubsException.FailureReason.ServiceBusy) };
        await using var log = Log(producer, o => { o.SendRetries = 1; o.SendRetryDelay = TimeSpan.FromMilliseconds(1); });
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
    public async Task One_ad_with_half_of_all_traffic_spreads_evenly_over_every_partition()
    {
        // Invariant 3 + finding 2 of issue 11: with the partition key = ad id, this ad alone would put >= 50% of the
        // traffic on one partition, far beyond one throughput unit at the design load.
        var hub = new EventHubsFake(TimeProvider.System, partitionCount: 32, throughputUnits: 1_000);
        await using var log = new EventHubClickLog(hub, Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "clicks", MaxConcurrentSends = 4 }),
            TestClicks.Metrics(), TimeProvider.System, NullLogger<EventHubClickLog>.Instance);
        var ct = TestContext.Current.CancellationToken;
        var clicks = Enumerable.Range(0, 6_400).Select(i => TestClicks.Make(i % 2 == 0 ? "hot-ad" : $"ad-{i}", $"imp-{i}")).ToList();
        await Task.WhenAll(clicks.Select(c => log.AppendAsync(c, ct).AsTask()));

        var perPartition = hub.PartitionIds.Select(hub.Count).ToList();
        Assert.Equal(6_400, perPartition.Sum());
        // 200 per partition on average; a hot ad on one partition would make one of them >= 3,200.
        Assert.All(perPartition, n => Assert.InRange(n, 120, 280));
        var hotPerPartition = hub.PartitionIds.Select(p => hub.Read(p, 0, int.MaxValue).Count(e => ClickWireFormat.Decode(e.EventBody.ToArray()).AdId == "hot-ad")).ToList();
        Assert.All(hotPerPartition, n => Assert.InRange(n, 50, 150));
    }

    [Fact]
    public async Task A_double_click_taken_by_two_instances_lands_in_the_partition_of_the_original()
    {
        var hub = new EventHubsFake(TimeProvider.System, partitionCount: 32);
        var ct = TestContext.Current.CancellationToken;
        var click = TestClicks.Make("ad-1", "imp-42");
        var later = click with { Timestamp = click.Timestamp.AddSeconds(1) }; // the same impression clicked again
        // Two instances (two publishers that share nothing but the hub) each take one of the clicks.
        for (int instance = 0; instance < 2; instance++)
        {
            await using var log = new EventHubClickLog(hub, Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "clicks" }),
                TestClicks.Metrics(), TimeProvider.System, NullLogger<EventHubClickLog>.Instance);
            await log.AppendAsync(instance == 0 ? click : later, ct);
        }
        string expected = ClickPartitions.IndexOf(click.ClickId, 32).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, hub.Count(expected));
        Assert.Equal(2, hub.PartitionIds.Sum(hub.Count));
    }

    [Fact]
    public async Task ServerBusy_is_retried_after_a_backoff_counted_in_the_retries_metric_and_the_click_then_completes()
    {
        var time = new FakeTimeProvider(TestClicks.Noon);
        var hub = new EventHubsFake(time, partitionCount: 1);
        var meters = TestClicks.Meters();
        var (listener, seen) = Telemetry.MeterRecorder.Listen(meters);
        using var _ = listener;
        await using var log = new EventHubClickLog(hub, Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "clicks", SendRetries = 3 }),
            new AzureClickMetrics(meters), time, NullLogger<EventHubClickLog>.Instance);
        var ct = TestContext.Current.CancellationToken;
        // Fill the partition's second: 1,000 events.
        await Task.WhenAll(Enumerable.Range(0, 1_000).Select(i => log.AppendAsync(TestClicks.Make("ad-1", $"fill-{i}"), ct).AsTask()));
        Assert.Equal(0, hub.ServerBusyAnswers);

        var append = log.AppendAsync(TestClicks.Make("ad-1", "one-too-many"), ct).AsTask();
        await WaitUntil(() => hub.ServerBusyAnswers == 1);
        Assert.False(append.IsCompleted); // not acknowledged, not failed: backing off
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!append.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(100)); // the backoff runs on the injected clock
            await Task.Delay(5, timeout.Token);
        }
        await append;
        Assert.Equal(1_001, hub.Count("0"));
        Assert.True(seen["clicks.publish.retries{server_busy}"] >= 1);
        Assert.False(seen.ContainsKey("clicks.publish.failures"));
    }
}
