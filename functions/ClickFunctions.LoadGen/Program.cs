using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ClickFunctions.LoadGen;
using ClickFunctions.Signing;

var target = new Option<Uri>("--target") { Description = "Base URL of the deployment (local host or Function App)", Required = true, CustomParser = r => new Uri(r.Tokens.Single().Value, UriKind.Absolute) };
var keyId = new Option<string>("--key-id") { Description = "Signing key id the target accepts", DefaultValueFactory = _ => "dev" };
var key = new Option<string?>("--key") { Description = "Signing key, base64 (or --data-dir to use a local host's development key)" };
var dataDir = new Option<string?>("--data-dir") { Description = "A local host's data directory holding dev-keys.json" };
var ads = new Option<int>("--ads") { Description = "Number of ads", DefaultValueFactory = _ => 10_000 };
var advertisers = new Option<int>("--advertisers") { Description = "Number of advertisers ({prefix}0..)", DefaultValueFactory = _ => 1 };
var advertiserPrefix = new Option<string>("--advertiser-prefix") { Description = "Prefix of advertiser ids; a fresh prefix keeps a verified run apart from earlier clicks", DefaultValueFactory = _ => "lg-adv-" };
var zipf = new Option<double>("--zipf") { Description = "Zipf exponent of ad popularity (0 = uniform)", DefaultValueFactory = _ => 1.0 };
var duplicates = new Option<double>("--duplicate-rate") { Description = "Share of clicks repeating an earlier impression", DefaultValueFactory = _ => 0.05 };
var bots = new Option<double>("--bot-share") { Description = "Share of clicks from a bot user agent", DefaultValueFactory = _ => 0.02 };
var invalid = new Option<double>("--invalid-share") { Description = "Share of clicks with a tampered signature", DefaultValueFactory = _ => 0.01 };
var rate = new Option<double?>("--rate") { Description = "Open loop: clicks per second (latency from the intended send time)" };
var connections = new Option<int>("--connections") { Description = "Closed loop: concurrent connections (when --rate is not given)", DefaultValueFactory = _ => 64 };
var duration = new Option<TimeSpan>("--duration") { Description = "Run time, e.g. 00:00:30", DefaultValueFactory = _ => TimeSpan.FromSeconds(30) };
var requests = new Option<int>("--requests") { Description = "Clicks to mint for a closed-loop run (cycled if the run outlasts them)", DefaultValueFactory = _ => 200_000 };
var verify = new Option<bool>("--verify") { Description = "After the run, check the query API counts exactly the distinct valid clicks redirected" };
var apiKeys = new Option<string[]>("--api-key") { Description = "ADVERTISER=KEY for --verify (repeatable); KEY may be \"Bearer <token>\" for a Function App behind Easy Auth", AllowMultipleArgumentsPerToken = true };
var verifyTimeout = new Option<TimeSpan>("--verify-timeout") { Description = "How long to wait for counts to catch up", DefaultValueFactory = _ => TimeSpan.FromSeconds(30) };
var maxConnections = new Option<int>("--max-connections") { Description = "Open loop: most connections (and requests in flight); later requests wait, their latency still counted from the intended send time", DefaultValueFactory = _ => 512 };
var json = new Option<string?>("--json") { Description = "Also write the summary as JSON to this file" };
var seed = new Option<int>("--seed") { Description = "Random seed of the population", DefaultValueFactory = _ => 42 };
var emitPaths = new Option<string?>("--emit-paths") { Description = "Only mint --requests click URLs (path and query, one per line) into this file, then exit" };
var freshness = new Option<int>("--freshness") { Description = "Instead of a load run: send this many probe clicks one by one and time each from its 302 to its first appearance in the query API (needs one --api-key)" };
var probeInterval = new Option<TimeSpan>("--probe-interval") { Description = "With --freshness: pause between probe clicks, to spread them over a concurrent load run (e.g. a soak)", DefaultValueFactory = _ => TimeSpan.Zero };
var landing = new Option<string>("--landing-url") { Description = "Landing URL of every ad", DefaultValueFactory = _ => "https://example.com/landing" };

var command = new RootCommand("ClickFunctions load generator: signed clicks against any deployment, with latency percentiles and an optional count check.")
{
    target, keyId, key, dataDir, ads, advertisers, advertiserPrefix, zipf, duplicates, bots, invalid, rate, connections, duration, requests, verify, apiKeys, verifyTimeout, maxConnections, json, seed, landing, emitPaths, freshness, probeInterval,
};
command.SetAction(async (result, cancellationToken) =>
{
    string? secret = result.GetValue(key);
    string id = result.GetValue(keyId)!;
    if (secret is null && result.GetValue(dataDir) is { } dir)
    {
        using var devKeys = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "dev-keys.json"), cancellationToken));
        secret = devKeys.RootElement.GetProperty("signingKey").GetString();
    }
    if (secret is null)
    {
        Console.Error.WriteLine("Give the signing key with --key (base64) or --data-dir (a local host's data directory).");
        return 2;
    }
    var signer = new ClickUrlSigner(new SigningKeyRing(new SigningKey(id, Convert.FromBase64String(secret))));
    var keys = (result.GetValue(apiKeys) ?? []).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    if (result.GetValue(freshness) is > 0 and var probes)
    {
        if (keys.Count != 1)
        {
            Console.Error.WriteLine("--freshness needs exactly one --api-key ADVERTISER=KEY.");
            return 2;
        }
        var (probeAdvertiser, probeKey) = keys.Single();
        await new FreshnessProbe(result.GetValue(target)!, signer, probeAdvertiser, probeKey, Console.Out).RunAsync(probes, result.GetValue(probeInterval), cancellationToken);
        return 0;
    }
    double? arrivalRate = result.GetValue(rate);
    var runTime = result.GetValue(duration);
    int planned = arrivalRate is { } r ? (int)Math.Min(int.MaxValue, Math.Ceiling(r * runTime.TotalSeconds)) : result.GetValue(requests);
    string runId = "lg" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
    var population = new Population(
        new PopulationOptions(result.GetValue(ads), result.GetValue(advertisers), result.GetValue(zipf), result.GetValue(duplicates), result.GetValue(bots), result.GetValue(invalid), result.GetValue(landing)!, result.GetValue(seed), result.GetValue(advertiserPrefix)!),
        signer, runId);
    Console.Error.WriteLine($"minting {planned:N0} click URLs...");
    var plan = new List<PlannedClick>(planned);
    for (int i = 0; i < planned; i++)
    {
        plan.Add(population.Next());
    }
    if (result.GetValue(emitPaths) is { } pathsFile)
    {
        await File.WriteAllLinesAsync(pathsFile, plan.Select(p => p.PathAndQuery), cancellationToken);
        return 0;
    }
    var options = new RunOptions(result.GetValue(target)!, arrivalRate, result.GetValue(connections), runTime, MaxInFlight: result.GetValue(maxConnections));
    Console.Error.WriteLine(arrivalRate is { } rr
        ? FormattableString.Invariant($"open loop at {rr:N0} clicks/s for {runTime} against {options.Target}")
        : FormattableString.Invariant($"closed loop with {options.Connections} connections for {runTime} against {options.Target}"));
    var start = DateTimeOffset.UtcNow;
    var run = await new LoadRunner(options, plan, Console.Error).RunAsync(cancellationToken);
    var end = DateTimeOffset.UtcNow;
    Report.Print(run, Console.Out);
    if (result.GetValue(json) is { } jsonPath)
    {
        await File.WriteAllTextAsync(jsonPath, Report.Json(run), cancellationToken);
    }
    if (!result.GetValue(verify))
    {
        return run.Errors == 0 ? 0 : 1;
    }
    bool ok = await new Verifier(options.Target, keys, Console.Out).VerifyAsync(run, start, end, result.GetValue(verifyTimeout), cancellationToken);
    return ok && run.Errors == 0 ? 0 : 1;
});
return await command.Parse(args).InvokeAsync();
