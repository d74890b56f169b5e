using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Simulation;

/// <summary>What one scenario ended with, against the oracle, before and after reconciliation.</summary>
public sealed record ScenarioOutcome(
    int Seed,
    long ValidClicks,
    long InvalidClicks,
    long LostBefore,
    long DoubledBefore,
    long InvalidLostBefore,
    long InvalidDoubledBefore,
    long LostAfter,
    long DoubledAfter,
    long InvalidDiffAfter,
    ReconcileStatus FirstStatus,
    ReconcileStatus SettledStatus,
    int SettledWrites,
    int Crashes,
    int Rebalances,
    int GivenUp,
    int Faults,
    int LagRuns,
    int LagRunsWithUnconsumedEvents,
    int LagWritesOfUnconsumedEvents,
    int StalledPartitions,
    int ExpiredEvents,
    int Replays,
    long MaxRowsPerRead);

/// <summary>
/// A deterministic, seeded model of the Azure processing path: an Event Hubs log of several partitions with
/// per-partition checkpoints; function instances that own partitions, receive whole or partial batches from their
/// position, run the real <see cref="AggregationStep"/> against a claims table that fails or times out after
/// succeeding, ingest bucket rows with deterministic ids (partition + first and last sequence number) into a modelled
/// ADX that fails, times out after landing rows, or goes through outages; a retry policy of a few attempts after which
/// the trigger checkpoints anyway; crashes after claiming and after writing buckets (before the checkpoint); and
/// rebalancing that hands a partition to another instance at its checkpoint while the old owner's write still lands.
/// Then the real <see cref="Reconciler"/> over the Capture files of that log.
/// </summary>
public static class ProcessingSimulation
{
    public const int MaxAttempts = 3;
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);

    public static async Task<ScenarioOutcome> RunAsync(int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        int partitionCount = random.Next(2, 5);
        var log = Generate(random, partitionCount);
        var oracle = Oracle(log);

        var claims = new FaultyClaimTable(random, failBefore: 0.03, timeoutAfter: 0.04, Horizon);
        var kusto = new SimulatedKusto(random, failBefore: 0.03, timeoutAfter: 0.04, outageStart: 0.015, ingestionLag: random.Next(2) == 0);
        var step = new AggregationStep(claims);
        int instances = random.Next(1, 4);
        var maxBatch = Enumerable.Range(0, instances).Select(_ => random.Next(2, 17)).ToArray();
        var owner = Enumerable.Range(0, partitionCount).Select(_ => random.Next(instances)).ToArray();
        var checkpoint = new long[partitionCount];
        var position = new long[partitionCount];
        int crashes = 0, rebalances = 0, givenUp = 0;

        // Replays after retention (1 in 6 scenarios): the aggregator of one partition was down longer than the hub's
        // retention, so its first events expired unread (Capture still has them); it starts at the earliest retained
        // event, and later that partition is replayed from there (checkpoint reset), redelivering what it counted.
        int expired = 0, replays = 0;
        int retentionPartition = random.Next(6) == 0 ? random.Next(partitionCount) : -1;
        if (retentionPartition >= 0)
        {
            expired = random.Next(1, Math.Max(2, log[retentionPartition].Count / 2));
            expired = Math.Min(expired, log[retentionPartition].Count);
            checkpoint[retentionPartition] = position[retentionPartition] = expired;
        }

        // Aggregator lag beyond the window (1 in 3 scenarios): some partitions stall part-way (one may not start at
        // all) while reconciliation of the closed window runs, several times; then they catch up.
        var stopAt = log.Select(l => (long)l.Count).ToArray();
        int stalled = 0;
        if (random.Next(3) == 0)
        {
            foreach (int p in Enumerable.Range(0, partitionCount).Where(_ => random.Next(2) == 0).DefaultIfEmpty(random.Next(partitionCount)))
            {
                stopAt[p] = Math.Max(checkpoint[p], random.Next(0, log[p].Count));
                stalled++;
            }
        }

        var time = new FakeTimeProvider(Start.AddHours(2));
        var capture = new SimulatedCapture(log, random);
        var corrections = new SimulatedKustoCorrections(kusto, () => Enumerable.Range(0, partitionCount)
            .ToDictionary(p => p.ToString(CultureInfo.InvariantCulture), p => checkpoint[p]));
        var reconciler = new Reconciler(capture, corrections, new ReconcileOptions(), Horizon, time);
        var (from, to) = (Start, Start.AddMinutes(10));

        async Task ProcessAsync()
        {
            while (true)
            {
                var open = Enumerable.Range(0, partitionCount).Where(p => checkpoint[p] < stopAt[p]).ToArray();
                if (open.Length == 0)
                {
                    break;
                }
                int p = open[random.Next(open.Length)];
                if (instances > 1 && random.NextDouble() < 0.03)
                {
                    // Rebalance between invocations: the new owner starts at the checkpoint.
                    owner[p] = (owner[p] + 1 + random.Next(instances - 1)) % instances;
                    position[p] = checkpoint[p];
                    rebalances++;
                    continue;
                }
                int limit = maxBatch[owner[p]];
                int size = (int)Math.Min(stopAt[p] - position[p], random.Next(2) == 0 ? limit : random.Next(1, limit + 1));
                var batch = log[p].Skip((int)position[p]).Take(size).ToList();
                string batchId = string.Create(CultureInfo.InvariantCulture, $"{p}:{batch[0].SequenceNumber}-{batch[^1].SequenceNumber}");
                bool interrupted = false, done = false;
                for (int attempt = 1; attempt <= MaxAttempts && !interrupted && !done; attempt++)
                {
                    try
                    {
                        var result = await step.AggregateAsync(batch, cancellationToken).ConfigureAwait(false);
                        if (random.NextDouble() < 0.03)
                        {
                            interrupted = true; // crash after claiming, before the buckets are written
                            break;
                        }
                        kusto.Ingest(result.Buckets.Select(b => ($"{batchId}|{b.Key.AdId}|{b.Key.Minute.UtcTicks}", b.Key, b.Value)));
                        if (random.NextDouble() < 0.04)
                        {
                            interrupted = true; // crash, or the partition rebalanced away, after writing buckets, before the checkpoint
                            break;
                        }
                        done = true;
                    }
                    catch (SimulatedFaultException)
                    {
                        // the host's retry policy runs the same batch again
                    }
                }
                if (interrupted)
                {
                    crashes++;
                    owner[p] = random.Next(instances);
                    position[p] = checkpoint[p];
                    continue;
                }
                if (!done)
                {
                    givenUp++; // retries exhausted: the trigger checkpoints past the batch anyway
                }
                position[p] += size;
                checkpoint[p] = position[p];
            }
        }

        await ProcessAsync().ConfigureAwait(false);
        int lagRuns = 0, lagRunsUnconsumed = 0, lagWritesUnconsumed = 0;
        if (stalled > 0)
        {
            for (int run = random.Next(1, 4); run > 0; run--)
            {
                // a click of the window (malformed events count nowhere) the aggregator has not consumed yet
                bool unconsumed = Enumerable.Range(0, partitionCount).Any(p => log[p].Skip((int)checkpoint[p]).Any(e => Decodes(e)));
                int writes = corrections.Writes;
                var lagReport = await ReconcileWithRetriesAsync(reconciler, from, to, cancellationToken).ConfigureAwait(false);
                lagRuns++;
                if (unconsumed)
                {
                    lagRunsUnconsumed++;
                    lagWritesUnconsumed += corrections.Writes - writes;
                    if (lagReport.Status != ReconcileStatus.Unsettled)
                    {
                        throw new InvalidOperationException($"seed {seed}: reconciled {lagReport.Status} while the aggregator had not consumed the window");
                    }
                }
                // the stalled partitions move a little between runs, or not at all
                for (int p = 0; p < partitionCount; p++)
                {
                    stopAt[p] = Math.Min(log[p].Count, stopAt[p] + random.Next(0, 3));
                }
                await ProcessAsync().ConfigureAwait(false);
            }
            stopAt = log.Select(l => (long)l.Count).ToArray();
            await ProcessAsync().ConfigureAwait(false);
        }
        if (retentionPartition >= 0 && random.Next(2) == 0)
        {
            // Replay of the retained events of that partition (the checkpoint reset to the earliest retained event).
            checkpoint[retentionPartition] = position[retentionPartition] = Math.Min(expired, log[retentionPartition].Count);
            replays++;
            await ProcessAsync().ConfigureAwait(false);
        }

        var before = Compare(oracle, kusto.View(countRead: false));
        var first = await ReconcileWithRetriesAsync(reconciler, from, to, cancellationToken).ConfigureAwait(false);
        // Runs until ingestion has caught up; a rerun that still sees pre-correction counts re-sends the same row ids.
        ReconcileReport settled = first;
        int writesBefore = corrections.Writes;
        for (int run = 0; run < 4; run++)
        {
            writesBefore = corrections.Writes;
            settled = await ReconcileWithRetriesAsync(reconciler, from, to, cancellationToken).ConfigureAwait(false);
        }
        var after = Compare(oracle, kusto.View(countRead: false));
        return new ScenarioOutcome(
            seed,
            oracle.Values.Sum(c => c.Clicks),
            oracle.Values.Sum(c => c.InvalidClicks),
            before.Lost, before.Doubled, before.InvalidLost, before.InvalidDoubled,
            after.Lost, after.Doubled, after.InvalidLost + after.InvalidDoubled,
            first.Status, settled.Status, corrections.Writes - writesBefore,
            crashes, rebalances, givenUp, claims.Faults + kusto.Faults,
            lagRuns, lagRunsUnconsumed, lagWritesUnconsumed, stalled, expired, replays, corrections.MaxRowsPerRead);
    }

    private static bool Decodes(RawEvent raw)
    {
        try
        {
            ClickWireFormat.Decode(raw.Body.Span);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static async Task<ReconcileReport> ReconcileWithRetriesAsync(Reconciler reconciler, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await reconciler.ReconcileAsync(from, to, cancellationToken).ConfigureAwait(false);
            }
            catch (SimulatedFaultException) when (attempt < 50)
            {
                // the timer fires again
            }
        }
    }

    /// <summary>Clicks in increasing time over five minutes, on ads spread over partitions; duplicates, bots and malformed events.</summary>
    private static List<IReadOnlyList<RawEvent>> Generate(Random random, int partitionCount)
    {
        var partitions = Enumerable.Range(0, partitionCount).Select(_ => new List<RawEvent>()).ToList();
        int ads = random.Next(2, 8);
        int clicks = random.Next(20, 90);
        var impressions = Enumerable.Range(0, ads).Select(_ => new List<string>()).ToArray();
        var t = Start.AddSeconds(random.Next(0, 30));
        for (int i = 0; i < clicks; i++)
        {
            t = t.AddMilliseconds(random.Next(0, 7000));
            int ad = random.Next(ads);
            int p = ad % partitionCount;
            byte[] body;
            if (random.NextDouble() < 0.02)
            {
                body = [1, 0, 42]; // malformed: dead-lettered, never counted
            }
            else
            {
                string impression = impressions[ad].Count > 0 && random.NextDouble() < 0.2
                    ? impressions[ad][random.Next(impressions[ad].Count)]
                    : "imp-" + i.ToString(CultureInfo.InvariantCulture);
                impressions[ad].Add(impression);
                var reason = random.NextDouble() < 0.1 ? ClickReason.BotUserAgent : ClickReason.Valid;
                string adId = "ad-" + ad.ToString(CultureInfo.InvariantCulture);
                body = ClickWireFormat.Encode(new ClickEvent(
                    ClickId.FromImpression("adv-" + (ad % 2).ToString(CultureInfo.InvariantCulture), adId, impression), t, adId,
                    "adv-" + (ad % 2).ToString(CultureInfo.InvariantCulture), "cmp-1", reason, "", "203.0.113.0", new Fingerprint((ulong)ad)));
            }
            partitions[p].Add(new RawEvent(p.ToString(CultureInfo.InvariantCulture), partitions[p].Count, t.AddMilliseconds(random.Next(1, 50)), body));
        }
        return [.. partitions];
    }

    /// <summary>
    /// The exact counts, computed independently of the aggregation step: in each partition's order, the first
    /// valid click of an id counts, later ones are duplicates; invalid clicks count under their reason; malformed
    /// events count nowhere.
    /// </summary>
    public static Dictionary<BucketKey, BucketCounts> Oracle(IReadOnlyList<IReadOnlyList<RawEvent>> log)
    {
        var counts = new Dictionary<BucketKey, BucketCounts>();
        var seen = new HashSet<ClickId>();
        foreach (var partition in log)
        {
            foreach (var raw in partition)
            {
                ClickEvent click;
                try
                {
                    click = ClickWireFormat.Decode(raw.Body.Span);
                }
                catch (FormatException)
                {
                    continue;
                }
                var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                if (!counts.TryGetValue(key, out var bucket))
                {
                    bucket = new BucketCounts();
                    counts.Add(key, bucket);
                }
                bucket.Add(!click.IsValid ? click.Reason : seen.Add(click.ClickId) ? ClickReason.Valid : ClickReason.Duplicate);
            }
        }
        return counts;
    }

    private static (long Lost, long Doubled, long InvalidLost, long InvalidDoubled) Compare(Dictionary<BucketKey, BucketCounts> oracle, Dictionary<BucketKey, BucketCounts> stored)
    {
        long lost = 0, doubled = 0, invalidLost = 0, invalidDoubled = 0;
        var empty = new BucketCounts();
        foreach (var key in oracle.Keys.Union(stored.Keys))
        {
            var want = oracle.GetValueOrDefault(key) ?? empty;
            var have = stored.GetValueOrDefault(key) ?? empty;
            lost += Math.Max(0, want.Clicks - have.Clicks);
            doubled += Math.Max(0, have.Clicks - want.Clicks);
            for (int r = 0; r < BucketCounts.ReasonSlots; r++)
            {
                invalidLost += Math.Max(0, want.InvalidByReason[r] - have.InvalidByReason[r]);
                invalidDoubled += Math.Max(0, have.InvalidByReason[r] - want.InvalidByReason[r]);
            }
        }
        return (lost, doubled, invalidLost, invalidDoubled);
    }
}
