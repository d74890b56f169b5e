using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using ClickFunctions.Ports;

namespace ClickFunctions.Azure.Reconciliation;

/// <summary>
/// The consumer positions the reconciler may trust once rows can be queued (decision 063): a checkpoint says the
/// aggregator handed a batch's rows to ADX, but a queued ingestion lands them only after the table's batching
/// policy (30 s, infra/kusto/01-tables.kql) and the service's own delay. So each run records the checkpoints it
/// read, with the time, in a small history blob, and answers the newest recorded positions that are at least
/// <paramref name="settle"/> old: every event before them was handed over that long ago. With no such record yet
/// (the first runs) nothing counts as consumed, and the reconciler is Unsettled: it writes nothing and runs again.
/// </summary>
public sealed class SettledPositions(IConsumerPositions checkpoints, BlobContainerClient container, TimeSpan settle, TimeProvider time) : IConsumerPositions
{
    public const string HistoryBlob = "positions/history.json";

    public static readonly TimeSpan DefaultSettle = TimeSpan.FromMinutes(5);

    public sealed record Snapshot(DateTimeOffset At, Dictionary<string, long> Positions);

    public async ValueTask<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken)
    {
        var current = await checkpoints.ReadAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var history = await LoadAsync(cancellationToken).ConfigureAwait(false);
        history.Add(new Snapshot(now, new Dictionary<string, long>(current, StringComparer.Ordinal)));
        var settled = history.Where(s => now - s.At >= settle).MaxBy(s => s.At);
        // Keep the settled snapshot and everything newer: the next runs need one that is old enough.
        history = history.Where(s => settled is null || s.At >= settled.At).OrderBy(s => s.At).ToList();
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await container.GetBlobClient(HistoryBlob).UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(history)), overwrite: true, cancellationToken).ConfigureAwait(false);
        return settled?.Positions ?? new Dictionary<string, long>(StringComparer.Ordinal);
    }

    private async Task<List<Snapshot>> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var content = await container.GetBlobClient(HistoryBlob).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize<List<Snapshot>>(content.Value.Content.ToMemory().Span) ?? [];
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
        catch (JsonException)
        {
            // A damaged history only delays reconciliation by one settle time; it never lets a run trust too much.
            return [];
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"settled positions ({settle})");
}
