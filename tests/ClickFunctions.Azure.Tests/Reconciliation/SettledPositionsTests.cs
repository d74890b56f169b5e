using ClickFunctions.Azure.Reconciliation;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Ports;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.Reconciliation;

/// <summary>
/// Queued ingestion lands rows after the trigger's checkpoint (decision 063): the reconciler trusts a checkpoint only
/// once it was read at least the settle time ago, recorded in a history blob (Azurite) that a new host reads too.
/// </summary>
public sealed class SettledPositionsTests(Azurite azurite)
{
    private sealed class MovingCheckpoints : IConsumerPositions
    {
        public Dictionary<string, long> Now { get; } = new(StringComparer.Ordinal);

        public ValueTask<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken) =>
            new(new Dictionary<string, long>(Now, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_checkpoint_counts_as_consumed_only_once_it_is_older_than_the_settle_time()
    {
        var ct = TestContext.Current.CancellationToken;
        var container = azurite.Blobs().GetBlobContainerClient("settle" + Guid.NewGuid().ToString("N")[..12]);
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-02T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var checkpoints = new MovingCheckpoints();
        var settle = TimeSpan.FromMinutes(5);
        var positions = new SettledPositions(checkpoints, container, settle, time);

        checkpoints.Now["0"] = 1_000;
        Assert.Empty(await positions.ReadAsync(ct)); // first run: nothing is old enough, so nothing counts as consumed

        time.Advance(TimeSpan.FromMinutes(4));
        checkpoints.Now["0"] = 2_000; // rows of 1,000..1,999 may still be in the ingestion queue
        Assert.Empty(await positions.ReadAsync(ct));

        time.Advance(TimeSpan.FromMinutes(2));
        checkpoints.Now["0"] = 3_000;
        Assert.Equal(1_000, (await positions.ReadAsync(ct))["0"]); // the 10:00 reading is 6 min old; 10:04's is not

        // A new host (the timer moved) reads the same history.
        time.Advance(TimeSpan.FromMinutes(4));
        var other = new SettledPositions(checkpoints, container, settle, time);
        Assert.Equal(2_000, (await other.ReadAsync(ct))["0"]); // at 10:10 the 10:04 reading is the newest that is 5 min old
        await container.DeleteIfExistsAsync(cancellationToken: ct);
    }
}
