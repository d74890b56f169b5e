using System.Globalization;
using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// An online backup of the real host under a 2,000 clicks/s load (the LoadGen), restored into new directories by the
/// real CLI (docs/decisions/086-online-backup-and-restore.md): without the original log the restored host answers
/// exactly a recount of the log up to the backup's cut-off; with the surviving log it answers exactly what the
/// original answered at the end, every click after the backup replayed, none twice.
/// </summary>
public sealed class BackupRestoreTests : IDisposable
{
    private static readonly Dictionary<string, string> Keys = new()
    {
        ["lg-adv-0"] = "key-0-0123456789abcdef",
        ["lg-adv-1"] = "key-1-0123456789abcdef",
    };

    private readonly List<string> _directories = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string> HostEnvironment => Keys.ToDictionary(k => $"Advertisers__{k.Key}__ApiKey", k => k.Value);

    private string NewDirectory(string name)
    {
        string directory = Directory.CreateTempSubdirectory("cf-" + name + "-").FullName;
        _directories.Add(directory);
        return directory;
    }

    [Fact]
    public async Task A_backup_under_load_restores_to_the_exact_cut_off_and_with_the_surviving_log_to_the_exact_end()
    {
        string original = NewDirectory("bk-orig");
        string backup = Path.Combine(NewDirectory("bk-dest"), "backup-1");
        var from = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(-1);
        var testKeys = TestKeys.Create();
        Dictionary<string, long> final;
        BackupManifest manifest;
        await using (var host = await LocalHostProcess.StartAsync(original, testKeys, HostEnvironment, Ct))
        {
            using var client = host.CreateClient();
            var load = DotnetTool.RunAsync("ClickFunctions.LoadGen.dll",
                ["--target", host.BaseAddress.ToString(), "--key-id", testKeys.KeyId, "--key", testKeys.KeyBase64,
                 "--ads", "200", "--advertisers", "2", "--rate", "2000", "--duration", "00:00:10", "--duplicate-rate", "0.1", "--bot-share", "0.05",
                 "--verify", "--verify-timeout", "00:01:00", .. Keys.SelectMany(k => new[] { "--api-key", $"{k.Key}={k.Value}" })], Ct);

            // Under load: every click acknowledged before the backup starts must be in it.
            var acknowledged = await WaitForSequencesAsync(client, atLeast: 4_000);
            var run = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["backup", "--to", backup, "--data-dir", original], Ct, workingDirectory: original);
            Assert.True(run.ExitCode == 0, run.Output);
            manifest = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(backup, BackupManifest.FileName), Ct), BackupJson.Default.BackupManifest)!;
            Assert.True(manifest.Online, run.Output);
            foreach (var (partition, sequence) in acknowledged)
            {
                Assert.True(manifest.LogEnds[partition] >= sequence, $"partition {partition}: backup ends at {manifest.LogEnds[partition]}, {sequence} were acknowledged before it started");
                Assert.True(manifest.StorePositions.GetValueOrDefault(partition) <= manifest.LogEnds[partition]);
            }

            var loaded = await load;
            Assert.True(loaded.ExitCode == 0, loaded.Output);
            Assert.Contains("verify: OK", loaded.Output, StringComparison.Ordinal);
            final = await TotalsAsync(client, from);
            await host.StopAsync();
        }

        var cutOff = await RecountAsync(Path.Combine(original, "log"), manifest.LogEnds);
        Assert.True(cutOff.Values.Sum() > 0);
        Assert.True(cutOff.Values.Sum() < final.Values.Sum(), "the load went on after the backup, so the cut-off counts less than the end");

        // Restored into a new directory: exactly the counts of the log up to the cut-off.
        string fresh = NewDirectory("bk-new");
        var restored = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["restore", "--from", backup, "--data-dir", fresh], Ct, workingDirectory: fresh);
        Assert.True(restored.ExitCode == 0, restored.Output);
        Assert.Contains("restored the backup's log", restored.Output, StringComparison.Ordinal);
        await AssertHostAnswersAsync(fresh, from, cutOff);

        // Restored over the surviving log (the store lost): every click after the backup is replayed, none twice.
        string survived = NewDirectory("bk-survived");
        CopyDirectory(Path.Combine(original, "log"), Path.Combine(survived, "log"));
        restored = await DotnetTool.RunAsync("ClickFunctions.Local.dll", ["restore", "--from", backup, "--data-dir", survived], Ct, workingDirectory: survived);
        Assert.True(restored.ExitCode == 0, restored.Output);
        Assert.Contains("kept the data directory's log", restored.Output, StringComparison.Ordinal);
        await AssertHostAnswersAsync(survived, from, final);
    }

    /// <summary>Starts the host on <paramref name="directory"/> and waits (bounded) until its consumer has read the whole log; then its totals must be <paramref name="expected"/>.</summary>
    private static async Task AssertHostAnswersAsync(string directory, DateTimeOffset from, Dictionary<string, long> expected)
    {
        await using var host = await LocalHostProcess.StartAsync(directory, environment: HostEnvironment, cancellationToken: Ct);
        using var client = host.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<string, long> totals;
        while (true)
        {
            totals = await TotalsAsync(client, from);
            if (totals.Values.Sum() >= expected.Values.Sum() || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(200, Ct);
        }
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), totals.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    /// <summary>Valid clicks per advertiser/ad over the run, from the query API.</summary>
    private static async Task<Dictionary<string, long>> TotalsAsync(HttpClient client, DateTimeOffset from)
    {
        var to = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(2);
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (advertiser, key) in Keys)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/advertisers/{advertiser}/ads?from={QueryApi.Iso(from)}&to={QueryApi.Iso(to)}");
            request.Headers.Add("X-Api-Key", key);
            using var response = await client.SendAsync(request, Ct);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            foreach (var ad in json.RootElement.GetProperty("ads").EnumerateArray())
            {
                string name = advertiser + "/" + ad.GetProperty("adId").GetString();
                totals[name] = totals.GetValueOrDefault(name) + ad.GetProperty("clicks").GetInt64();
            }
        }
        return totals.Where(t => t.Value > 0).ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>The log's sequence numbers acknowledged so far (from /healthz), once their sum reaches <paramref name="atLeast"/>.</summary>
    private static async Task<Dictionary<string, long>> WaitForSequencesAsync(HttpClient client, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var health = JsonDocument.Parse(await client.GetStringAsync(new Uri("/healthz", UriKind.Relative), Ct));
            var sequences = health.RootElement.GetProperty("partitions").EnumerateArray()
                .ToDictionary(p => p.GetProperty("partition").GetInt32().ToString(CultureInfo.InvariantCulture), p => p.GetProperty("nextSequence").GetInt64(), StringComparer.Ordinal);
            if (sequences.Values.Sum() >= atLeast)
            {
                return sequences;
            }
            Assert.True(DateTime.UtcNow < deadline, "the load never reached the host");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>What the consumer counts from each partition's events below <paramref name="ends"/>: valid clicks per advertiser/ad.</summary>
    private static async Task<Dictionary<string, long>> RecountAsync(string logDirectory, IReadOnlyDictionary<string, long> ends)
    {
        var step = new AggregationStep(new EmbeddedClaimStore(TimeSpan.FromHours(24)));
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (int partition in LocalClickLog.PartitionsIn(logDirectory))
        {
            using var reader = LocalClickLog.OpenOfflineReader(logDirectory, partition, 0);
            var events = new List<RawEvent>();
            while (reader.Read(events, 100_000) > 0)
            {
            }
            long end = ends[partition.ToString(CultureInfo.InvariantCulture)];
            var result = await step.AggregateAsync([.. events.Where(e => e.SequenceNumber < end)], Ct);
            foreach (var (key, counts) in result.Buckets)
            {
                string name = key.AdvertiserId + "/" + key.AdId;
                totals[name] = totals.GetValueOrDefault(name) + counts.Clicks;
            }
        }
        return totals.Where(t => t.Value > 0).ToDictionary(StringComparer.Ordinal);
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (string directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        }
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        }
    }

    public void Dispose()
    {
        foreach (string directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
