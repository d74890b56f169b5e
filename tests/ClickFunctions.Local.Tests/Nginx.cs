using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ClickFunctions.Tests;

/// <summary>
/// nginx from Debian as a real reverse proxy in front of the local host, on a free loopback port, run in the
/// foreground as a child of the test and stopped with it. Installed by the test run where missing (as
/// tests/load/bench.sh does), pinned to <see cref="PinnedVersion"/> where apt still offers it.
/// </summary>
public sealed class Nginx : IAsyncDisposable
{
    /// <summary>Debian 12 (bookworm) security update; apt falls back to the candidate where this one is gone.</summary>
    public const string PinnedVersion = "1.22.1-9+deb12u11";

    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri BaseAddress { get; }

    /// <summary>Null when nginx is on PATH (or was installed now); otherwise why it could not be installed.</summary>
    public static async Task<string?> EnsureInstalledAsync(CancellationToken cancellationToken)
    {
        if (await RunAsync("sh", ["-c", "command -v nginx"], cancellationToken) == 0)
        {
            return null;
        }
        // Pinned first, then whatever apt offers (a pinned version disappears from the mirror once superseded).
        string script = $"apt-get install -y -qq nginx={PinnedVersion} || " +
                        $"(apt-get update -qq && (apt-get install -y -qq nginx={PinnedVersion} || apt-get install -y -qq nginx))";
        int code = await RunAsync("sh", ["-c", script], cancellationToken);
        return code == 0 && await RunAsync("sh", ["-c", "command -v nginx"], cancellationToken) == 0
            ? null
            : $"nginx is not installed and apt-get could not install it (exit {code}); install Debian's nginx to run this test";
    }

    /// <summary>Starts nginx proxying everything to <paramref name="upstream"/>, appending the peer to X-Forwarded-For.</summary>
    /// <remarks>A free port is found by binding port 0 and releasing it, so another process may take it before nginx binds
    /// it: nginx then exits with "Address already in use", and the start is retried on a new port (at most 5 times).</remarks>
    public static async Task<Nginx> StartAsync(Uri upstream, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnFreePortAsync(upstream, cancellationToken);
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<Nginx> StartOnFreePortAsync(Uri upstream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        string directory = Directory.CreateTempSubdirectory("cf-nginx-").FullName;
        int port = FreePort();
        string config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 256; }
            http {
              access_log off;
              client_body_temp_path {{directory}}; proxy_temp_path {{directory}}; fastcgi_temp_path {{directory}};
              uwsgi_temp_path {{directory}}; scgi_temp_path {{directory}};
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://{{upstream.Authority}};
                  proxy_set_header Host $host;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                }
              }
            }
            """, cancellationToken);
        var start = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-c", config, "-p", directory, "-e", Path.Combine(directory, "error.log") })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start nginx");
        var nginx = new Nginx(process, directory, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                string log = File.Exists(Path.Combine(directory, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "error.log"), cancellationToken) : "";
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync(cancellationToken)}{log}");
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return nginx;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken);
            }
        }
    }

    /// <summary>An HTTP client whose connections come from <paramref name="sourceAddress"/> (any 127.x address is local on Linux).</summary>
    public static HttpClient ClientFrom(string sourceAddress, Uri baseAddress) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<int> RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
        await process.WaitForExitAsync(cancellationToken);
        await drain;
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
