using System.Globalization;
using System.Runtime.CompilerServices;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ClickFunctions.Capture;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Capture;

/// <summary>One Capture file: its blob name, the partition and the UTC window start its path encodes.</summary>
public sealed record CaptureBlob(string Name, string Partition, DateTimeOffset WindowStart, long Length);

/// <summary>
/// Raw events from Event Hubs Capture blobs, laid out as
/// <c>{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}</c> (the default Capture
/// name format), read with the one Capture reader (<see cref="CaptureFileReader"/>; codecs null and deflate).
/// Empty files (zero bytes, or an Avro header with no blocks: Capture writes those for idle windows) hold no events.
/// </summary>
public sealed partial class CaptureBlobSource(BlobServiceClient service, IOptions<CaptureBlobOptions> options, ILogger<CaptureBlobSource> logger) : IRawEventSource
{
    /// <summary>
    /// The files that can hold events enqueued in [enqueuedFrom, enqueuedTo): a file is named by the start of its
    /// capture window, so files starting up to <see cref="CaptureBlobOptions.FileWindow"/> before the range count too.
    /// Per partition in time (so sequence) order; Capture names carry no sequence number to expect.
    /// </summary>
    public async IAsyncEnumerable<RawEventFile> ReadAsync(DateTimeOffset enqueuedFrom, DateTimeOffset enqueuedTo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in ListAsync(enqueuedFrom - _options.FileWindow, enqueuedTo, cancellationToken).ConfigureAwait(false))
        {
            yield return new RawEventFile(blob.Partition, blob.Name, null, await ReadBlobAsync(blob, cancellationToken).ConfigureAwait(false));
        }
    }

    private readonly CaptureBlobOptions _options = options.Value;

    private BlobContainerClient Container => service.GetBlobContainerClient(_options.Container);

    private string HubPrefix => $"{_options.Namespace}/{_options.EventHub}/";

    /// <summary>Capture files whose window starts in [from, to), in partition then time order.</summary>
    public async IAsyncEnumerable<CaptureBlob> ListAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var partitions = new List<string>();
        await foreach (var item in Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", HubPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (item.IsPrefix)
            {
                partitions.Add(item.Prefix[HubPrefix.Length..].TrimEnd('/'));
            }
        }
        partitions.Sort(StringComparer.Ordinal);
        foreach (string partition in partitions)
        {
            var found = new List<CaptureBlob>();
            // List hour by hour, so a window of minutes lists minutes of blobs, not the partition's whole history.
            for (var hour = Floor(from, TimeSpan.TicksPerHour); hour < to; hour = hour.AddHours(1))
            {
                string prefix = HubPrefix + partition + "/" + hour.UtcDateTime.ToString("yyyy/MM/dd/HH/", CultureInfo.InvariantCulture);
                await foreach (var blob in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
                {
                    if (TryParse(blob.Name, out var parsed) && parsed.WindowStart >= from && parsed.WindowStart < to)
                    {
                        found.Add(parsed with { Length = blob.Properties.ContentLength ?? 0 });
                    }
                }
            }
            foreach (var blob in found.OrderBy(b => b.WindowStart).ThenBy(b => b.Name, StringComparer.Ordinal))
            {
                yield return blob;
            }
        }
    }

    /// <summary>Every event of the Capture files whose window starts in [from, to).</summary>
    public async IAsyncEnumerable<RawEvent> ReadEventsAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in ListAsync(from, to, cancellationToken).ConfigureAwait(false))
        {
            foreach (var raw in await ReadBlobAsync(blob, cancellationToken).ConfigureAwait(false))
            {
                yield return raw;
            }
        }
    }

    public async Task<IReadOnlyList<RawEvent>> ReadBlobAsync(CaptureBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        // Capture files are bounded by the capture window (minutes, at most hundreds of MB); buffering one gives the
        // reader the seekable stream it wants and keeps the Avro decoding off the network.
        using var buffer = new MemoryStream();
        await Container.GetBlobClient(blob.Name).DownloadToAsync(buffer, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        using var reader = CaptureFileReader.Open(buffer, leaveOpen: true);
        if (reader is null)
        {
            Log.EmptyFile(logger, blob.Name);
            return [];
        }
        var events = new List<RawEvent>();
        foreach (var record in reader.ReadToEnd())
        {
            events.Add(new RawEvent(blob.Partition, record.SequenceNumber, record.EnqueuedTimeUtc, record.Body ?? []));
        }
        return events;
    }

    /// <summary>Parses <c>{ns}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}/{ss}[.avro]</c>.</summary>
    public static bool TryParse(string name, out CaptureBlob blob)
    {
        blob = null!;
        ArgumentNullException.ThrowIfNull(name);
        string[] parts = name.Split('/');
        if (parts.Length != 9)
        {
            return false;
        }
        string last = parts[8];
        int dot = last.IndexOf('.', StringComparison.Ordinal);
        string second = dot < 0 ? last : last[..dot];
        string stamp = $"{parts[3]}-{parts[4]}-{parts[5]}T{parts[6]}:{parts[7]}:{second}Z";
        if (!DateTimeOffset.TryParseExact(stamp, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start))
        {
            return false;
        }
        blob = new CaptureBlob(name, parts[2], start, 0);
        return true;
    }

    private static DateTimeOffset Floor(DateTimeOffset t, long ticks) => new(t.UtcTicks - (t.UtcTicks % ticks), TimeSpan.Zero);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Capture file {Blob} holds no events")]
        public static partial void EmptyFile(ILogger logger, string blob);
    }
}
