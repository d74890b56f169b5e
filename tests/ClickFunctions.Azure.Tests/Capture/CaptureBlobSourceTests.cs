using System.Globalization;
using Avro;
using Avro.File;
using Avro.Generic;
using Azure.Storage.Blobs;
using ClickFunctions.Azure.Capture;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Capture;

/// <summary>The Capture blob source against a real Azurite Blob service, with the real Azure-written file and deflate files.</summary>
public sealed class CaptureBlobSourceTests(Azurite azurite)
{
    private readonly string _container = "capture" + Guid.NewGuid().ToString("N")[..10];

    private CaptureBlobSource Source() => new(azurite.Blobs(),
        Options.Create(new CaptureBlobOptions { BlobServiceUri = azurite.BlobEndpoint, Container = _container, Namespace = "evhns-clicks", EventHub = "clicks" }),
        NullLogger<CaptureBlobSource>.Instance);

    private async Task<BlobContainerClient> Container()
    {
        var container = azurite.Blobs().GetBlobContainerClient(_container);
        await container.CreateIfNotExistsAsync(cancellationToken: TestContext.Current.CancellationToken);
        return container;
    }

    private static string PathFor(string partition, DateTimeOffset window) =>
        "evhns-clicks/clicks/" + partition + "/" + window.UtcDateTime.ToString("yyyy/MM/dd/HH/mm/ss", CultureInfo.InvariantCulture) + ".avro";

    private async Task Upload(string name, byte[] content)
    {
        var container = await Container();
        await container.GetBlobClient(name).UploadAsync(new BinaryData(content), overwrite: true, TestContext.Current.CancellationToken);
    }

    /// <summary>Writes a Capture-schema file the way Azure does, with Apache.Avro's writer and the given codec.</summary>
    private static byte[] AvroFile(Codec codec, params (long Sequence, DateTimeOffset Enqueued, byte[] Body)[] events)
    {
        var schema = (RecordSchema)Schema.Parse(CaptureSchema.Json);
        using var stream = new MemoryStream();
        using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), stream, codec))
        {
            foreach (var (sequence, enqueued, body) in events)
            {
                var record = new GenericRecord(schema);
                record.Add("SequenceNumber", sequence);
                record.Add("Offset", (sequence * 100).ToString(CultureInfo.InvariantCulture));
                record.Add("EnqueuedTimeUtc", enqueued.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture));
                record.Add("SystemProperties", new Dictionary<string, object>());
                record.Add("Properties", new Dictionary<string, object>());
                record.Add("Body", body);
                writer.Append(record);
            }
        }
        return stream.ToArray();
    }

    [Fact]
    public async Task The_real_Azure_written_Capture_file_yields_its_event_with_sequence_number_time_and_body()
    {
        var fixture = await File.ReadAllBytesAsync(TestPaths.TestData("eventhubs-capture", "azure-capture-2016-null-codec.avro"), TestContext.Current.CancellationToken);
        var window = new DateTimeOffset(2016, 11, 3, 9, 0, 0, TimeSpan.Zero);
        await Upload(PathFor("1", window), fixture);

        var events = await Source().ReadEventsAsync(window, window.AddMinutes(5), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        var single = Assert.Single(events);
        Assert.Equal("1", single.Partition);
        using var reader = CaptureFileReader.Open(new MemoryStream(fixture))!;
        var expected = Assert.Single(reader.ReadToEnd());
        Assert.Equal(expected.SequenceNumber, single.SequenceNumber);
        Assert.Equal(expected.EnqueuedTimeUtc, single.EnqueuedTime);
        Assert.Equal(expected.Body, single.Body.ToArray());
        Assert.StartsWith("{", System.Text.Encoding.UTF8.GetString(single.Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deflate_files_are_read_and_clicks_in_their_bodies_decode()
    {
        var window = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var clicks = Enumerable.Range(0, 20).Select(i => TestClicks.Make("ad-1", $"imp-{i}")).ToList();
        var file = AvroFile(Codec.CreateCodec(Codec.Type.Deflate), clicks.Select((c, i) => ((long)i, window.AddSeconds(i), ClickWireFormat.Encode(c))).ToArray());
        await Upload(PathFor("0", window), file);

        var events = await Source().ReadEventsAsync(window, window.AddMinutes(1), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), events.Select(e => e.SequenceNumber));
        Assert.Equal(clicks, events.Select(e => ClickWireFormat.Decode(e.Body.Span)));
    }

    [Fact]
    public async Task Zero_length_and_header_only_files_hold_no_events_and_do_not_stop_the_others()
    {
        var window = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        await Upload(PathFor("0", window), []);
        await Upload(PathFor("0", window.AddMinutes(1)), AvroFile(Codec.CreateCodec(Codec.Type.Null)));
        await Upload(PathFor("0", window.AddMinutes(2)), AvroFile(Codec.CreateCodec(Codec.Type.Null), (7, window.AddMinutes(2), [1, 2, 3])));

        var events = await Source().ReadEventsAsync(window, window.AddMinutes(5), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal(7, Assert.Single(events).SequenceNumber);
    }

    [Fact]
    public async Task Only_files_whose_window_starts_in_the_range_are_listed_per_partition_in_time_order()
    {
        var start = new DateTimeOffset(2026, 11, 29, 23, 58, 0, TimeSpan.Zero);
        foreach (var (partition, minute) in new[] { ("1", 0), ("0", 3), ("0", 1), ("0", 0), ("0", 5), ("1", 4) })
        {
            await Upload(PathFor(partition, start.AddMinutes(minute)), []);
        }
        await Upload("evhns-clicks/clicks/0/not-a-capture-file.txt", [1]);

        var listed = await Source().ListAsync(start, start.AddMinutes(4), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        // The range crosses midnight; minute 4 and 5 are outside [start, start + 4 min).
        Assert.Equal([("0", 0), ("0", 1), ("0", 3), ("1", 0)], listed.Select(b => (b.Partition, (int)(b.WindowStart - start).TotalMinutes)));
    }

    [Theory]
    [InlineData("ns/hub/3/2026/11/29/12/05/30.avro", "3", "2026-11-29T12:05:30Z")]
    [InlineData("ns/hub/0/2026/01/02/03/04/05", "0", "2026-01-02T03:04:05Z")]
    public void Capture_paths_are_parsed_into_partition_and_window_start(string name, string partition, string start)
    {
        Assert.True(CaptureBlobSource.TryParse(name, out var blob));
        Assert.Equal(partition, blob.Partition);
        Assert.Equal(DateTimeOffset.Parse(start, CultureInfo.InvariantCulture), blob.WindowStart);
    }

    [Theory]
    [InlineData("ns/hub/3/2026/11/29/12/05.avro")]
    [InlineData("ns/hub/3/2026/13/29/12/05/00.avro")]
    public void Other_paths_are_not_Capture_files(string name) => Assert.False(CaptureBlobSource.TryParse(name, out _));
}
