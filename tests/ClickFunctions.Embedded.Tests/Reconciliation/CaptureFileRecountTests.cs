using ClickFunctions.Capture;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Tests.Reconciliation;

/// <summary>The real Azure-written Capture file, turned into a <see cref="RawEventFile"/> as the Azure source does, through the recount.</summary>
public class CaptureFileRecountTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "TestData", "azure-capture-2016-null-codec.avro");

    private static async IAsyncEnumerable<RawEventFile> CaptureFiles()
    {
        await Task.Yield();
        using var stream = File.OpenRead(Fixture);
        using var reader = CaptureFileReader.Open(stream)!;
        var events = reader.ReadToEnd().Select(r => new RawEvent("0", r.SequenceNumber, r.EnqueuedTimeUtc, r.Body ?? [])).ToList();
        yield return new RawEventFile("0", "ns/hub/0/2016/11/16/16/44/11", null, events);
    }

    [Fact]
    public async Task The_real_capture_files_event_is_read_with_its_sequence_number_and_a_body_that_is_no_click_is_counted_malformed_not_fatal()
    {
        var from = new DateTimeOffset(2016, 11, 16, 16, 0, 0, TimeSpan.Zero);

        var recount = await ClickRecount.RunAsync(CaptureFiles(), from, from.AddHours(1), TimeSpan.FromHours(24), TestContext.Current.CancellationToken);

        Assert.Equal(1, recount.EventsRead);
        Assert.Equal(1, recount.Malformed);
        Assert.Empty(recount.Gaps);
        Assert.Empty(recount.Buckets);
        var partition = Assert.Single(recount.Partitions);
        Assert.Equal(partition.FirstSequence + 1, recount.NextSequences["0"]);
        Assert.Equal(1, partition.Events);
    }
}
