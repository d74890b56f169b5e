using Azure.Messaging.EventHubs;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

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

    [Fact]
    public async Task An_append_completes_only_after_Event_Hubs_acknowledged_the_send()
    {
        var producer = new RecordingProducer { Gate = new TaskCompletionSource() };
        await using var log = Log(producer);
        var append = log.AppendAsync(TestClicks.Make("ad-1", "i1"), TestContext.Current.CancellationToken).AsTask();
        await WaitUntil(() => producer.SendsStarted == 1);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(append.IsCompleted);
        Assert.Empty(producer.Sent);
        producer.Gate.SetResult();
        await append;
        Assert.Single(producer.Sent);
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
        var clicks = Enumerable.Range(0, 60).Select(i => TestClicks.Make(i % 2 == 0 ? "ad-1" : "ad-2", $"imp-{i}")).ToList();
        var appends = clicks.Select(c => log.AppendAsync(c, ct).AsTask()).ToList();
        await Task.Delay(50, ct);
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
        Assert.Equal(1, data.Properties[EventHubClickLog.WireFormatProperty]);
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
        await Task.Delay(50, ct);
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
        var blocked = log.AppendAsync(TestClicks.Make("ad-1", "blocked"), giveUp.Token).AsTask();
        await Task.Delay(50, ct);
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        producer.Gate.SetResult();
        await Task.WhenAll(queued.Append(inFlight).Append(extra));
        var sentBodies = producer.Sent.SelectMany(s => s.Events).Select(e => ClickWireFormat.Decode(e.EventBody.ToArray()).ClickId).ToHashSet();
        Assert.DoesNotContain(TestClicks.Make("ad-1", "blocked").ClickId, sentBodies);
        Assert.Equal(4, sentBodies.Count);
    }
}
