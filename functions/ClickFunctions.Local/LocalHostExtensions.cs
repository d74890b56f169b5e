using ClickFunctions.Embedded;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Scalar.AspNetCore;

namespace ClickFunctions.Local;

public static class LocalHostExtensions
{
    /// <summary>The embedded shape (<see cref="EmbeddedAdaptersExtensions.AddEmbeddedAdapters"/>) served by Kestrel, with development keys, a start-up banner and Prometheus metrics.</summary>
    public static WebApplicationBuilder AddLocalHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var paths = EmbeddedPaths.From(builder.Configuration);
        Directory.CreateDirectory(paths.DataDirectory);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(LocalPaths.DefaultUrl);
        }
        // Per-request framework logs at Information would cost more than the click itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var notes = DevKeys.Apply(builder.Configuration, paths.DataDirectory).Append(DevAdminKey.Apply(builder.Configuration, paths.DataDirectory)).ToList();
        builder.AddEmbeddedAdapters();
        builder.AddTrustedProxies();
        // Advertisers and keys added at runtime through the admin API, kept in the data directory.
        builder.Services.AddSingleton<ClickFunctions.Hosting.Accounts.IAccountStore>(new ClickFunctions.Embedded.Accounts.FileAccountStore(paths.DataDirectory));
        builder.Services.AddAdminApi(builder.Configuration);
        builder.Services.AddSingleton(new StartupNotes(paths.DataDirectory, notes));
        builder.Services.AddHostedService<StartupBanner>();
        builder.Services.AddHostedService<OpsSocket>();
        // Under systemd (Type=notify): READY=1 once started, STOPPING=1 on SIGTERM, journald log levels; a no-op elsewhere.
        builder.Services.AddSystemd();
        builder.AddLocalTelemetry();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer(new ApiDocumentTransformer()));
        return builder;
    }

    public static WebApplication MapLocalHost(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseTrustedProxies();
        app.MapClickEndpoints();
        app.MapLocalTelemetry();
        app.MapQueryEndpoints();
        app.MapAdminEndpoints();
        // The OpenAPI document at /openapi/v1.json and its browsable reference at /scalar (issue 15).
        app.MapOpenApi();
        app.MapScalarApiReference();
        app.MapDashboard();
        app.MapGet("/healthz", (LocalClickLog log, DiskUsage disk) => TypedResults.Json(
            new HealthReport("ok", [.. log.Partitions.Select(p => new PartitionHealth(p.Id, p.Committed.NextSequence))], disk.LogBytes(), disk.StoreBytes()),
            LocalJson.Default.HealthReport));
        return app;
    }

    /// <summary>The address a person on this machine can open: wildcard hosts become localhost.</summary>
    public static string BrowsableBase(IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        string address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? LocalPaths.DefaultUrl;
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "localhost";
        }
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}

public sealed record StartupNotes(string DataDirectory, IReadOnlyList<string> Notes);

public sealed record PartitionHealth(int Partition, long NextSequence);

/// <summary>/healthz: the log's partitions, and the bytes the log and the store take on disk.</summary>
public sealed record HealthReport(string Status, IReadOnlyList<PartitionHealth> Partitions, long LogBytes, long StoreBytes);

[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReport))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class LocalJson : System.Text.Json.Serialization.JsonSerializerContext;
