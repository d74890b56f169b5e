using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Embedded.Store;

namespace ClickFunctions.Local;

/// <summary>A request to the running host's operations socket: one JSON line.</summary>
public sealed record OpsRequest(string Command, string? To = null);

/// <summary>The answer: one JSON line.</summary>
public sealed record OpsResponse(bool Ok, string Message, BackupManifest? Manifest = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(OpsRequest))]
[JsonSerializable(typeof(OpsResponse))]
internal sealed partial class OpsJson : JsonSerializerContext;

/// <summary>
/// The running host's operations endpoint: a Unix domain socket <c>{data-dir}/ops.sock</c>, mode 0600, so only the
/// host's own user (and root) can reach it; it is not on any TCP port and no reverse proxy can forward to it. The
/// <c>backup</c> command talks to it, because only the host's process may open the DuckDB file while it runs
/// (docs/decisions/086-online-backup-and-restore.md). One request at a time, one JSON line each way.
/// </summary>
public sealed partial class OpsSocket(EmbeddedPaths paths, IServiceProvider services, TimeProvider time, ILogger<OpsSocket> logger) : BackgroundService
{
    public const string FileName = "ops.sock";

    /// <summary>sun_path holds 108 bytes on Linux, with its terminating NUL.</summary>
    public const int MaxPathBytes = 107;

    public static string PathIn(string dataDirectory) => System.IO.Path.Combine(dataDirectory, FileName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string path = PathIn(paths.DataDirectory);
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes || !Socket.OSSupportsUnixDomainSockets)
        {
            Log.NoSocket(logger, path);
            return;
        }
        File.Delete(path); // left by a host that was killed; this process owns the data directory now
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        listener.Listen(4);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using var client = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
                await ServeAsync(client, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(client, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        OpsResponse response;
        try
        {
            string? line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var request = line is null ? null : JsonSerializer.Deserialize(line, OpsJson.Default.OpsRequest);
            response = request switch
            {
                { Command: "backup", To: { Length: > 0 } to } => await Task.Run(() => Backup(to), cancellationToken).ConfigureAwait(false),
                { Command: "ping" } => new OpsResponse(true, "running"),
                _ => new OpsResponse(false, "unknown request; expected {\"command\":\"backup\",\"to\":\"DIR\"} or {\"command\":\"ping\"}"),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            response = new OpsResponse(false, e.Message);
        }
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(response, OpsJson.Default.OpsResponse);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    private OpsResponse Backup(string to)
    {
        using var _ = services.GetRequiredService<MaintenanceLock>().Enter();
        var log = services.GetRequiredService<LocalClickLog>();
        var manifest = BackupWriter.Write(services.GetRequiredService<DuckDbClickStore>(), log, log.Directory, to, time);
        Log.BackedUp(logger, to, manifest.Files.Count);
        return new OpsResponse(true, $"backup written to {System.IO.Path.GetFullPath(to)}", manifest);
    }

    /// <summary>Whether a host answers on <paramref name="dataDirectory"/>'s operations socket (the commands that need it stopped ask this first).</summary>
    public static async Task<bool> IsHostRunningAsync(string dataDirectory, CancellationToken cancellationToken) =>
        await SendAsync(dataDirectory, new OpsRequest("ping"), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Opens the store at <paramref name="storePath"/> for a command run beside (not inside) the host, or says why
    /// not: another process holds DuckDB's file lock, or the file has another schema version.
    /// </summary>
    public static DuckDbClickStore? TryOpenStore(string storePath, out string? problem)
    {
        try
        {
            problem = null;
            return new DuckDbClickStore(new ClickStoreOptions { Path = storePath });
        }
        catch (DuckDB.NET.Data.DuckDBException e)
        {
            problem = $"the store {storePath} is in use by another process ({e.Message})";
            return null;
        }
        catch (StoreVersionException e)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>Sends one request to the host on <paramref name="dataDirectory"/>; null when no host answers there.</summary>
    public static async Task<OpsResponse?> SendAsync(string dataDirectory, OpsRequest request, CancellationToken cancellationToken)
    {
        string path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return null; // a socket file left by a killed host
        }
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(request, OpsJson.Default.OpsRequest);
        await stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? answer = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        return answer is null ? new OpsResponse(false, "the host closed the connection without an answer") : JsonSerializer.Deserialize(answer, OpsJson.Default.OpsResponse);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "No operations socket at {Path} (path too long for a Unix socket, or none on this OS): `backup` needs the host stopped.")]
        public static partial void NoSocket(ILogger logger, string path);

        [LoggerMessage(2, LogLevel.Information, "Backup written to {Path} ({Files} files).")]
        public static partial void BackedUp(ILogger logger, string path, int files);
    }
}
