using System.Text.Json;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Time.Testing;
using static ClickFunctions.Tests.Reconciliation.TestClicks;

namespace ClickFunctions.Tests.Reconciliation;

public class ReconcilerTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddMinutes(10);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);

    private readonly MemoryRawSource _source = new();
    private readonly MemoryBucketStore _store = new();
    private FakeTimeProvider _time = new(To.AddHours(1));

    private Reconciler Reconciler(ReconcileOptions? options = null) =>
        new(_source, _store, options ?? new ReconcileOptions(), Horizon, _time);

    private void AddFile(string partition, long? expectedFirst, params RawEvent[] events) =>
        _source.Files.Add(new RawEventFile(partition, $"{partition}/{expectedFirst ?? events.FirstOrDefault()?.SequenceNumber ?? 0}", expectedFirst, events));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_that_equals_the_recount_is_matched_and_nothing_is_written()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0), Raw(Click("b", From.AddMinutes(1)), 1), Raw(Click("a", From.AddMinutes(2)), 2));
        _store.Add(Key(From.AddMinutes(1)), Counts(2));
        _store.Add(Key(From.AddMinutes(2)), Counts(0, duplicates: 1));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Matched, report.Status);
        Assert.Equal(2, report.KeysCompared);
        Assert.Equal(0, report.KeysCorrected);
        Assert.Equal(3, report.EventsRead);
        Assert.Empty(_store.Writes);
    }

    [Fact]
    public async Task Lost_and_double_counted_clicks_are_corrected_and_a_second_run_writes_nothing()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0), Raw(Click("b", From.AddMinutes(1)), 1), Raw(Click("c", From.AddMinutes(3)), 2));
        _store.Add(Key(From.AddMinutes(1)), Counts(1)); // one click lost
        _store.Add(Key(From.AddMinutes(3)), Counts(2)); // one click counted twice
        _store.Add(Key(From.AddMinutes(5)), Counts(0, bots: 4)); // a bucket with no raw events at all

        var first = await Reconciler().ReconcileAsync(From, To, Ct);
        var second = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Corrected, first.Status);
        Assert.Equal(3, first.KeysCorrected);
        Assert.Equal(2, first.AbsoluteClickDifference);
        Assert.Equal(4, first.AbsoluteInvalidClickDifference);
        Assert.Equal(2, _store.Buckets[Key(From.AddMinutes(1))].Clicks);
        Assert.Equal(1, _store.Buckets[Key(From.AddMinutes(3))].Clicks);
        Assert.True(_store.Buckets[Key(From.AddMinutes(5))].IsZero);
        Assert.Equal(ReconcileStatus.Matched, second.Status);
        Assert.Single(_store.Writes);
    }

    [Fact]
    public async Task A_click_id_first_seen_just_before_the_window_is_still_a_duplicate_inside_it()
    {
        AddFile("0", null, Raw(Click("a", From.AddMinutes(-30)), 0));
        AddFile("0", null, Raw(Click("a", From.AddMinutes(1)), 1));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        var bucket = _store.Buckets[Key(From.AddMinutes(1))];
        Assert.Equal(0, bucket.Clicks);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.Duplicate]);
        Assert.False(_store.Buckets.ContainsKey(Key(From.AddMinutes(-30))));
    }

    [Fact]
    public async Task Without_the_dedup_lookback_the_same_click_would_wrongly_count_as_valid()
    {
        AddFile("0", null, Raw(Click("a", From.AddMinutes(-30)), 0));
        AddFile("0", null, Raw(Click("a", From.AddMinutes(1)), 1));

        await Reconciler(new ReconcileOptions { DedupLookback = TimeSpan.Zero }).ReconcileAsync(From, To, Ct);

        Assert.Equal(1, _store.Buckets[Key(From.AddMinutes(1))].Clicks);
    }

    [Fact]
    public async Task Events_are_recounted_in_sequence_order_so_a_late_event_is_the_duplicate_of_an_earlier_sequence_with_a_later_timestamp()
    {
        // Sequence 0 carries the later timestamp (after the window); sequence 1 the same click inside the window,
        // enqueued late. The live path claims at sequence 0 first, so the window's event is the duplicate.
        AddFile("0", 0, Raw(Click("a", To.AddMinutes(1)), 0, enqueued: To.AddMinutes(1)), Raw(Click("a", To.AddMinutes(-1)), 1, enqueued: To.AddMinutes(2)));

        await Reconciler().ReconcileAsync(From, To, Ct);

        var bucket = _store.Buckets[Key(To.AddMinutes(-1))];
        Assert.Equal(0, bucket.Clicks);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.Duplicate]);
    }

    [Fact]
    public async Task A_missing_raw_file_is_reported_as_a_gap_with_its_partition_and_range_and_nothing_is_corrected()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0), Raw(Click("b", From.AddMinutes(1)), 1));
        AddFile("0", 5, Raw(Click("c", From.AddMinutes(2)), 5));
        AddFile("1", null, Raw(Click("d", From.AddMinutes(2), ad: "ad-2"), 10, "1"), Raw(Click("e", From.AddMinutes(2), ad: "ad-2"), 12, "1"));
        _store.Add(Key(From.AddMinutes(1)), Counts(7));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Gaps, report.Status);
        Assert.Equal([new SequenceGap("0", 2, 4, "0/5"), new SequenceGap("1", 11, 11, "1/10")], report.Gaps);
        Assert.Contains("partition 0: 2..4", report.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Writes);
        Assert.Equal(7, _store.Buckets[Key(From.AddMinutes(1))].Clicks);
    }

    [Fact]
    public async Task A_file_whose_first_event_is_past_the_sequence_its_name_promises_is_a_gap()
    {
        AddFile("0", 100, Raw(Click("a", From.AddMinutes(1)), 103));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal([new SequenceGap("0", 100, 102, "0/100")], report.Gaps);
    }

    [Fact]
    public async Task Overlapping_files_count_each_event_once()
    {
        AddFile("0", null, Raw(Click("a", From.AddMinutes(1)), 0), Raw(Click("b", From.AddMinutes(1)), 1));
        AddFile("0", null, Raw(Click("b", From.AddMinutes(1)), 1), Raw(Click("c", From.AddMinutes(1)), 2));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Empty(report.Gaps);
        Assert.Equal(3, report.EventsRead);
        Assert.Equal(3, _store.Buckets[Key(From.AddMinutes(1))].Clicks);
    }

    [Fact]
    public async Task A_window_that_is_not_closed_is_neither_read_nor_corrected()
    {
        _time = new FakeTimeProvider(To.AddMinutes(14)); // closes at To + 5 min capture + 10 min lateness
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.WindowOpen, report.Status);
        Assert.Equal(0, _source.Reads);
        Assert.Empty(_store.Writes);
    }

    [Fact]
    public async Task A_store_whose_consumer_has_not_reached_the_window_is_left_alone()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0), Raw(Click("b", From.AddMinutes(1)), 1));
        _store.ConsumedUpTo = new() { ["0"] = 1 };
        _store.Add(Key(From.AddMinutes(1)), Counts(1));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Unsettled, report.Status);
        Assert.Empty(_store.Writes);
        _store.ConsumedUpTo["0"] = 2;
        Assert.Equal(ReconcileStatus.Corrected, (await Reconciler().ReconcileAsync(From, To, Ct)).Status);
    }

    [Fact]
    public async Task Unreadable_raw_data_is_reported_and_nothing_is_corrected()
    {
        _source.Failure = new InvalidDataException("invalid block at byte 42");
        _store.Add(Key(From.AddMinutes(1)), Counts(3));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Unreadable, report.Status);
        Assert.Contains("byte 42", report.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Writes);
    }

    [Fact]
    public async Task Malformed_events_are_counted_in_the_report_and_do_not_stop_the_recount()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0), new RawEvent("0", 1, From.AddMinutes(1), new byte[] { 9, 9, 9 }), Raw(Click("b", From.AddMinutes(1)), 2));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(1, report.MalformedEvents);
        Assert.Empty(report.Gaps);
        Assert.Equal(2, _store.Buckets[Key(From.AddMinutes(1))].Clicks);
    }

    [Fact]
    public async Task Clicks_outside_the_window_are_neither_compared_nor_corrected()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(-1)), 0), Raw(Click("b", To), 1), Raw(Click("c", From), 2));
        _store.Add(Key(From.AddMinutes(-1)), Counts(5));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);

        Assert.Equal(1, report.KeysCompared);
        Assert.Equal(1, report.EventsInWindow);
        Assert.Equal(5, _store.Buckets[Key(From.AddMinutes(-1))].Clicks);
        Assert.False(_store.Buckets.ContainsKey(Key(To)));
    }

    [Fact]
    public void Correction_row_ids_are_deterministic_and_depend_on_what_was_stored()
    {
        var key = Key(From);
        string id = ClickFunctions.Reconciliation.Reconciler.RowId(From, To, key, Counts(1), Counts(2));

        Assert.Equal(id, ClickFunctions.Reconciliation.Reconciler.RowId(From, To, key, Counts(1), Counts(2)));
        Assert.NotEqual(id, ClickFunctions.Reconciliation.Reconciler.RowId(From, To, key, Counts(2), Counts(2)));
        Assert.NotEqual(id, ClickFunctions.Reconciliation.Reconciler.RowId(From, To, Key(From, "ad-2"), Counts(1), Counts(2)));
    }

    [Fact]
    public async Task Windows_must_be_whole_minutes()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Reconciler().ReconcileAsync(From.AddSeconds(1), To, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Reconciler().ReconcileAsync(To, From, Ct));
    }

    [Fact]
    public void The_due_window_ends_at_the_newest_closed_minute()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 13, 0, 30, TimeSpan.Zero));

        var (from, to) = Reconciler(new ReconcileOptions { CaptureWindow = TimeSpan.FromMinutes(5), AllowedLateness = TimeSpan.FromMinutes(10), Span = TimeSpan.FromMinutes(10) }).DueWindow();

        Assert.Equal(new DateTimeOffset(2026, 11, 29, 12, 45, 0, TimeSpan.Zero), to);
        Assert.Equal(to.AddMinutes(-10), from);
    }

    [Fact]
    public async Task The_report_serialises_to_json_with_the_window_counts_gaps_and_status()
    {
        AddFile("0", 0, Raw(Click("a", From.AddMinutes(1)), 0));

        var report = await Reconciler().ReconcileAsync(From, To, Ct);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, ReconcileJson.Default.ReconcileReport));

        var root = json.RootElement;
        Assert.Equal("Corrected", root.GetProperty("status").GetString());
        Assert.Equal(From, root.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(1, root.GetProperty("eventsRead").GetInt64());
        Assert.Equal(1, root.GetProperty("keysCompared").GetInt32());
        Assert.Equal(1, root.GetProperty("keysCorrected").GetInt32());
        Assert.Equal(1, root.GetProperty("absoluteClickDifference").GetInt64());
        Assert.Equal(0, root.GetProperty("gaps").GetArrayLength());
        Assert.True(root.TryGetProperty("durationMs", out _));
        Assert.Contains("Corrected", report.Summary(), StringComparison.Ordinal);
    }
}
