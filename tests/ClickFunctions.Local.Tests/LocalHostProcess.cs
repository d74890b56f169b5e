using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests;

/// <summary>
/// The real local host, run as a child process (`dotnet ClickFunctions.Local.dll`) on a free loopback port with its
/// own data directory and configured keys. Tests talk to it over HTTP and can kill it with SIGKILL.
/// </summary>
public sealed partial class LocalHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LocalHostProcess(Process process, string dataDirectory, TestKeys keys)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Keys = keys;
    }

    public string DataDirectory { get; }

    public TestKeys Keys { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>An HTTP client for this host that does not follow redirects.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 256 })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<LocalHostProcess> StartAsync(string dataDirectory, TestKeys? keys = null, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        keys ??= TestKeys.Create();
        string dll = Path.Combine(AppContext.BaseDirectory, "ClickFunctions.Local.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        foreach (var arg in new[] { dll, "--urls", "http://127.0.0.1:0", "--data-dir", dataDirectory })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ClickSigning__KeyId"] = keys.KeyId;
        start.Environment["ClickSigning__Key"] = keys.KeyBase64;
        start.Environment["Privacy__FingerprintSecret"] = keys.FingerprintSecretBase64;
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the local host.");
        var host = new LocalHostProcess(process, dataDirectory, keys);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }
            lock (host._output)
            {
                host._output.AppendLine(e.Data);
            }
            if (ListeningLine().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(new Uri(m.Groups[1].Value));
            }
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60), cancellationToken));
        if (first != listening.Task)
        {
            await host.DisposeAsync();
            throw new InvalidOperationException($"The local host did not start:\n{host.Output}");
        }
        host.BaseAddress = await listening.Task;
        return host;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut of the process.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait for a graceful exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new InvalidOperationException($"The local host did not stop within 30 s:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    [GeneratedRegex(@"listening on:\s+(http://\S+)")]
    private static partial Regex ListeningLine();
}

/// <summary>Keys a test configures on the host, and a signer that uses them.</summary>
public sealed record TestKeys(string KeyId, string KeyBase64, string FingerprintSecretBase64)
{
    public static TestKeys Create() => new("test-1", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    public ClickUrlSigner Signer() => new(new SigningKeyRing(new SigningKey(KeyId, Convert.FromBase64String(KeyBase64))));

    /// <summary>A relative click URL (/c?...) for the given fields.</summary>
    public string ClickPath(ClickUrlFields fields) => "/c?" + Signer().SignQuery(fields);
}
