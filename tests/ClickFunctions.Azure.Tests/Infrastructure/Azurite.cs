using System.Diagnostics;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;

[assembly: AssemblyFixture(typeof(ClickFunctions.Azure.Tests.Infrastructure.Azurite))]

namespace ClickFunctions.Azure.Tests.Infrastructure;

/// <summary>
/// A real Azurite (npm azurite, pinned in tests/tools/package-lock.json) started once for the test assembly, in
/// memory, on free loopback ports it picks itself (port 0) and reports on stdout. Storage adapters take service
/// clients, so tests connect with Azurite's well-known development account while production uses identities.
/// </summary>
public sealed partial class Azurite : IAsyncLifetime
{
    // Azurite's fixed, publicly documented development account key: not a secret.
    private const string DevAccount = "devstoreaccount1";
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private string? _workDirectory;

    public Uri BlobEndpoint { get; private set; } = null!;

    public Uri TableEndpoint { get; private set; } = null!;

    public Uri QueueEndpoint { get; private set; } = null!;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};BlobEndpoint={BlobEndpoint};TableEndpoint={TableEndpoint};QueueEndpoint={QueueEndpoint};";

    public TableServiceClient Tables(TableClientOptions? options = null) => new(ConnectionString, options ?? new TableClientOptions());

    public BlobServiceClient Blobs() => new(ConnectionString);

    public global::Azure.Storage.Queues.QueueServiceClient Queues(global::Azure.Storage.Queues.QueueClientOptions? options = null) => new(ConnectionString, options ?? new global::Azure.Storage.Queues.QueueClientOptions());

    public async ValueTask InitializeAsync()
    {
        string script = Path.Combine(TestPaths.NpmTools, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}; build the test project (it runs npm ci in tests/tools).");
        }
        _workDirectory = Directory.CreateTempSubdirectory("azurite-").FullName;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = _workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[script, "--inMemoryPersistence", "--extentMemoryLimit", "256", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--blobPort", "0", "--queueHost", "127.0.0.1", "--queuePort", "0", "--tableHost", "127.0.0.1", "--tablePort", "0"])
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Uri? blob = null, table = null, queue = null;
        while (blob is null || table is null || queue is null)
        {
            string? line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                throw new InvalidOperationException($"Azurite exited with {(_process.HasExited ? _process.ExitCode : -1)} before listening.");
            }
            var match = Listening().Match(line);
            if (match.Success)
            {
                var endpoint = new Uri($"{match.Groups["url"].Value}/{DevAccount}");
                if (match.Groups["service"].Value == "Blob")
                {
                    blob = endpoint;
                }
                else if (match.Groups["service"].Value == "Table")
                {
                    table = endpoint;
                }
                else
                {
                    queue = endpoint;
                }
            }
        }
        BlobEndpoint = blob;
        TableEndpoint = table;
        QueueEndpoint = queue;
        // Keep draining stdout so Azurite never blocks on a full pipe.
        _ = _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_workDirectory is not null)
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
    }

    [GeneratedRegex(@"Azurite (?<service>Blob|Queue|Table) service is successfully listening at (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
