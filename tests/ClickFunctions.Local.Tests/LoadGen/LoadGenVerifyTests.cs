using ClickFunctions.LoadGen;

namespace ClickFunctions.Tests.LoadGen;

/// <summary>The load generator's verification mode, against the real local host.</summary>
public sealed class LoadGenVerifyTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-loadgen-").FullName;

    [Fact]
    public async Task A_short_open_loop_run_verifies_that_the_host_counted_exactly_the_distinct_valid_clicks_it_redirected()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, keys,
            new Dictionary<string, string> { ["Advertisers__lg-adv-0__ApiKey"] = "key-0-0123456789abcdef", ["Advertisers__lg-adv-1__ApiKey"] = "key-1-0123456789abcdef" }, ct);

        var (exit, output) = await RunLoadGenAsync(ct,
            "--target", host.BaseAddress.ToString(), "--key-id", keys.KeyId, "--key", keys.KeyBase64,
            "--ads", "40", "--advertisers", "2", "--rate", "100", "--duration", "00:00:04",
            "--duplicate-rate", "0.2", "--bot-share", "0.1", "--invalid-share", "0.1",
            "--verify", "--api-key", "lg-adv-0=key-0-0123456789abcdef", "--api-key", "lg-adv-1=key-1-0123456789abcdef");

        Assert.True(exit == 0, output);
        Assert.Matches(@"verify: OK: distinct valid clicks redirected [1-9][\d,]* , counted valid".Replace(" ,", ",", StringComparison.Ordinal), output);
        Assert.Matches(@"statuses   302: [\d,]+  403: [1-9]", output);
    }

    [Fact]
    public async Task Verification_fails_when_the_api_key_belongs_to_nobody()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, new Dictionary<string, string> { ["Advertisers__lg-adv-0__ApiKey"] = "key-0-0123456789abcdef" }, ct);

        var (exit, output) = await RunLoadGenAsync(ct,
            "--target", host.BaseAddress.ToString(), "--key-id", keys.KeyId, "--key", keys.KeyBase64,
            "--ads", "5", "--rate", "50", "--duration", "00:00:01", "--verify", "--api-key", "lg-adv-0=wrong-0123456789abcdef", "--verify-timeout", "00:00:01");

        Assert.NotEqual(0, exit);
        Assert.Contains("401", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_counts_take_each_redirected_impression_once_and_leave_out_bots_and_refused_clicks()
    {
        var valid = new PlannedClick("/c?imp=1", ClickKind.Valid, "adv", "ad-1");
        Outcome[] outcomes =
        [
            new(valid, 302),
            new(valid with { Kind = ClickKind.Duplicate }, 302),
            new(new PlannedClick("/c?imp=2", ClickKind.Valid, "adv", "ad-1"), 302),
            new(new PlannedClick("/c?imp=3", ClickKind.Valid, "adv", "ad-2"), 503),
            new(new PlannedClick("/c?imp=4", ClickKind.Bot, "adv", "ad-2"), 302),
            new(new PlannedClick("/c?imp=5", ClickKind.BadSignature, "adv", "ad-2"), 403),
            new(new PlannedClick("/c?imp=6", ClickKind.Duplicate, "adv", "ad-3"), 302),
        ];

        var expected = Verifier.Expected(outcomes);

        Assert.Equal(new Dictionary<string, long> { ["ad-1"] = 2, ["ad-3"] = 1 }, expected);
    }

    private static async Task<(int Exit, string Output)> RunLoadGenAsync(CancellationToken cancellationToken, params string[] args)
    {
        var result = await DotnetTool.RunAsync("ClickFunctions.LoadGen.dll", args, cancellationToken);
        return (result.ExitCode, result.Output);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
