using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;

namespace ClickFunctions.Azure.Reconciliation;

/// <summary>
/// A window the reconciler has not confirmed yet and will run again (decision 095), kept between runs in
/// <see cref="PendingWindows.Blob"/> of the reports container. <see cref="QueuedAt"/> set: the window's last run
/// corrected ADX by queued ingestion at that time, and the corrections may still be in ADX's queue, so the window is
/// not final and no overlapping window may be compared with ADX until a run of this window sees them. Not set: the
/// window was deferred because it overlaps such a window, and nothing of it was written.
/// </summary>
public sealed record PendingWindow(DateTimeOffset From, DateTimeOffset To, DateTimeOffset Since, DateTimeOffset? QueuedAt)
{
    public bool Overlaps(DateTimeOffset from, DateTimeOffset to) => From < to && from < To;

    public bool SameWindow(DateTimeOffset from, DateTimeOffset to) => From == from && To == to;
}

/// <summary>The reconciler's pending windows, one small JSON blob (like <see cref="SettledPositions"/>' history).</summary>
public sealed class PendingWindows(BlobContainerClient container)
{
    public const string Blob = "pending/windows.json";

    public async Task<List<PendingWindow>> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var content = await container.GetBlobClient(Blob).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize<List<PendingWindow>>(content.Value.Content.ToMemory().Span) ?? [];
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    public async Task SaveAsync(IReadOnlyCollection<PendingWindow> windows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var blob = container.GetBlobClient(Blob);
        if (windows.Count == 0)
        {
            await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        await blob.UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(windows.OrderBy(w => w.From).ToList())), overwrite: true, cancellationToken).ConfigureAwait(false);
    }
}
