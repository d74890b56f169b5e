using System.Net;
using System.Net.Sockets;

namespace ClickFunctions.Tests;

/// <summary>The built ClickFunctions.Local executable's command line, run as a user runs it.</summary>
public sealed class CliTests : IDisposable
{
    private const string Dll = "ClickFunctions.Local.dll";
    private readonly string _dir = Directory.CreateTempSubdirectory("cf-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Help_prints_usage_exits_zero_and_binds_nothing()
    {
        // Hold the port --help is pointed at: a host that tried to start would fail to bind it and exit 1.
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        int port = ((IPEndPoint)held.LocalEndpoint).Port;
        string dataDir = Path.Combine(_dir, "data");
        var result = await DotnetTool.RunAsync(Dll, ["--help", "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir], TestContext.Current.CancellationToken);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
        foreach (var command in new[] { "serve", "sign", "reconcile" })
        {
            Assert.Contains($"  {command} ", result.Stdout, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("listening on", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir), "--help created the data directory: something started");
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Subcommand_help_prints_that_subcommands_usage()
    {
        var result = await DotnetTool.RunAsync(Dll, ["sign", "--help"], TestContext.Current.CancellationToken);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ClickFunctions.Local sign [options]", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--advertiser", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_in_use_is_one_line_without_a_stack_trace()
    {
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        int port = ((IPEndPoint)held.LocalEndpoint).Port;
        var result = await DotnetTool.RunAsync(Dll, ["--urls", $"http://127.0.0.1:{port}", "--data-dir", Path.Combine(_dir, "data")], TestContext.Current.CancellationToken);
        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sign", "--verify")]
    [InlineData("sign")]
    [InlineData("signn")]
    [InlineData("reconcile", "--from", "yesterday", "--to", "today")]
    public async Task Errors_are_one_line(params string[] args)
    {
        var result = await DotnetTool.RunAsync(Dll, [.. args, "--data-dir", Path.Combine(_dir, "data")], TestContext.Current.CancellationToken,
            environment: new Dictionary<string, string?> { ["ClickFunctions__Url"] = "http://127.0.0.1:9" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--verify")]
    [InlineData("--verify", "--api-key", "adv-other=key-0123456789abcdef")]
    public async Task LoadGen_verify_without_the_advertisers_key_is_one_line_before_any_load(params string[] args)
    {
        // Port 9 (discard) on loopback has no listener: a run that started would show connection errors, not this.
        var result = await DotnetTool.RunAsync("ClickFunctions.LoadGen.dll",
            ["--target", "http://127.0.0.1:9", "--key", Convert.ToBase64String(new byte[32]), "--duration", "00:00:30", .. args], TestContext.Current.CancellationToken);
        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--api-key lg-adv-0=KEY", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("minting", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadGen_data_dir_without_a_development_key_is_one_line()
    {
        var result = await DotnetTool.RunAsync("ClickFunctions.LoadGen.dll",
            ["--target", "http://127.0.0.1:9", "--data-dir", Path.Combine(_dir, "nothing-here")], TestContext.Current.CancellationToken);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }
}
