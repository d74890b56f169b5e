using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Messaging.EventHubs.Producer;
using Azure.Storage.Blobs;
using ClickFunctions.Azure;
using ClickFunctions.Azure.Capture;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Aggregation;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Reconciliation;
using ClickFunctions.Azure.Telemetry;
using ClickFunctions.Reconciliation;
using ClickFunctions.Hosting;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure;

/// <summary>
/// The Azure shape's wiring, beside its adapters: the shared core plus Event Hubs, Table Storage, Blob Storage, ADX,
/// Easy Auth identities and Azure Monitor telemetry. The Functions app's Program (and the tests through it) call it.
/// </summary>
public static class AzureAdaptersExtensions
{
    public static IHostApplicationBuilder AddAzureAdapters(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddClickFunctionsCore();
        var services = builder.Services;

        services.AddOptions<EventHubClickLogOptions>().BindConfiguration(EventHubClickLogOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TableClaimOptions>().BindConfiguration(TableClaimOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CaptureBlobOptions>().BindConfiguration(CaptureBlobOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KustoOptions>().BindConfiguration(KustoOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ReconcileOptions>().BindConfiguration(ReconcileOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ReconcileReportOptions>().BindConfiguration(ReconcileOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DedupOptions>().BindConfiguration(DedupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdvertiserPrincipalOptions>().Configure<IConfiguration>(AdvertiserPrincipalOptions.Bind)
            .Validate(o => o.Advertisers.Values.All(a => !string.IsNullOrWhiteSpace(a.PrincipalId)), "Every Advertisers:<id> entry needs a PrincipalId.")
            .ValidateOnStart();
        // The dedup horizon is one setting for both hosts (Dedup:Horizon); the claims tables take it from there.
        services.AddOptions<TableClaimOptions>().Configure<IOptions<DedupOptions>>((o, dedup) => o.DedupHorizon = dedup.Value.Horizon);
        // Capture files are named by the start of their window; Reconcile:CaptureWindow is that window (one setting).
        services.AddOptions<CaptureBlobOptions>().Configure<IConfiguration>((o, configuration) =>
        {
            if (configuration.GetValue<TimeSpan?>(ReconcileOptions.Section + ":" + nameof(ReconcileOptions.CaptureWindow)) is { } window)
            {
                o.FileWindow = TimeSpan.FromTicks(Math.Clamp(window.Ticks, TimeSpan.TicksPerMinute, 15 * TimeSpan.TicksPerMinute));
            }
        });

        // Identity-based connections only: the app's managed identity in Azure, a developer's login elsewhere.
        // DefaultAzureCredential is lazy: nothing is fetched until a token is needed.
        TokenCredential credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = builder.Configuration["ManagedIdentity:ClientId"],
        });
        services.TryAddSingleton(credential);

        services.AddSingleton<AzureClickMetrics>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<EventHubClickLogOptions>>().Value;
            // The publisher retries transient failures itself (bounded, counted in clicks.publish.retries), so the
            // client's own retries are off and a send cannot hold a redirect for the SDK's default 60 s try timeout.
            var clientOptions = new EventHubProducerClientOptions();
            clientOptions.RetryOptions.MaximumRetries = 0;
            clientOptions.RetryOptions.TryTimeout = o.SendTimeout;
            return new EventHubProducerClient(o.FullyQualifiedNamespace, o.EventHubName, sp.GetRequiredService<TokenCredential>(), clientOptions);
        });
        services.AddSingleton<EventHubClickLog>();
        services.AddSingleton<IClickLog>(sp => sp.GetRequiredService<EventHubClickLog>());

        services.AddSingleton(sp =>
        {
            var options = new TableClientOptions();
            options.Retry.Mode = RetryMode.Exponential;
            options.Retry.MaxRetries = 5;
            options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
            return new TableServiceClient(sp.GetRequiredService<IOptions<TableClaimOptions>>().Value.TableServiceUri, sp.GetRequiredService<TokenCredential>(), options);
        });
        services.AddSingleton<TableClaimStore>();
        services.AddSingleton<IClaimStore>(sp => sp.GetRequiredService<TableClaimStore>());

        services.AddSingleton(sp => new BlobServiceClient(sp.GetRequiredService<IOptions<CaptureBlobOptions>>().Value.BlobServiceUri, sp.GetRequiredService<TokenCredential>()));
        services.AddSingleton<CaptureBlobSource>();
        services.AddSingleton(sp => new BlobDeadLetterWriter(
            sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(sp.GetRequiredService<IOptions<CaptureBlobOptions>>().Value.DeadLetterContainer),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<BlobDeadLetterWriter>>()));

        // One long-lived client with pooled connections that are recycled (DNS changes), shared by every ADX call;
        // transient answers are retried under it (429 after its Retry-After), each attempt bounded by Kusto:AttemptTimeout.
        services.AddSingleton(sp => new KustoClient(
            new HttpClient(KustoClient.CreateResilienceHandler(sp.GetRequiredService<IOptions<KustoOptions>>().Value, sp.GetRequiredService<TimeProvider>(),
                new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<KustoClient>>())) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<TokenCredential>(),
            sp.GetRequiredService<IOptions<KustoOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<KustoClient>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<KustoBucketQueries>();
        services.AddSingleton<IClickQueries>(sp => sp.GetRequiredService<KustoBucketQueries>());
        services.AddSingleton<IBucketSink, KustoBucketSink>();
        services.AddSingleton<IngestionFailureDrain>();
        // Advertisers, their query API keys (hashes) and principal → advertiser mappings, changed at runtime through
        // the admin API (decision 078): one table (Accounts:TableName) in the claims' storage account.
        services.AddSingleton(sp => new TableAccountStore(sp.GetRequiredService<TableServiceClient>().GetTableClient(
            sp.GetRequiredService<IConfiguration>()["Accounts:TableName"] is { Length: > 0 } name ? name : "accounts")));
        services.AddSingleton<ClickFunctions.Hosting.Accounts.IAccountStore>(sp => sp.GetRequiredService<TableAccountStore>());
        services.AddSingleton<IPrincipalDirectory>(sp => sp.GetRequiredService<TableAccountStore>());
        services.AddSingleton(sp => new AdvertiserPrincipals(sp.GetRequiredService<IOptions<AdvertiserPrincipalOptions>>(), sp.GetRequiredService<IPrincipalDirectory>(),
            sp.GetRequiredService<ClickFunctions.Hosting.Accounts.IAccountStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAdvertiserIdentity>(sp => sp.GetRequiredService<AdvertiserPrincipals>());
        // The configured advertisers (Advertisers:<id>:PrincipalId, optional TimeZone) are known to the admin API and
        // give the query API their zone, as the local host's configured advertisers do.
        services.AddOptions<ClickFunctions.Hosting.Options.AdvertisersOptions>().Configure<IConfiguration>((o, configuration) =>
        {
            foreach (var advertiser in configuration.GetSection(ClickFunctions.Hosting.Options.AdvertisersOptions.Section).GetChildren())
            {
                o.Advertisers[advertiser.Key] = new ClickFunctions.Hosting.Options.AdvertiserCredentials { TimeZone = advertiser["TimeZone"] };
            }
        });
        services.AddOptions<AdminPrincipalOptions>().Configure<IConfiguration>(AdminPrincipalOptions.Bind).ValidateOnStart();
        services.AddSingleton<ClickFunctions.Hosting.Http.IAdminIdentity, EasyAuthAdminIdentity>();
        services.AddAdminJson();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PrincipalJson.Default));
        builder.AddQueryApi();
        services.AddOptions<AggregationRetryOptions>().BindConfiguration(AggregationRetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<AggregationRetryOptions>>().Value);
        services.AddSingleton<PartitionBacklog>();
        services.AddSingleton<IClientAddress, PlatformClientAddress>();
        services.AddSingleton<ClickAggregator>();
        // The reconciler learns what the aggregator consumed from the trigger's own checkpoints (same settings as the trigger).
        services.AddOptions<CheckpointOptions>().BindConfiguration(CheckpointOptions.Section).Configure<IConfiguration>((o, configuration) =>
        {
            if (o.BlobServiceUri is null)
            {
                o.BlobServiceUri = configuration["AzureWebJobsStorage:blobServiceUri"] is { Length: > 0 } uri ? new Uri(uri)
                    : configuration["AzureWebJobsStorage:accountName"] is { Length: > 0 } account ? new Uri($"https://{account}.blob.core.windows.net") : null;
            }
            o.FullyQualifiedNamespace = o.FullyQualifiedNamespace is { Length: > 0 } ns ? ns : configuration["EventHubs:fullyQualifiedNamespace"] ?? "";
            o.EventHubName = o.EventHubName is { Length: > 0 } hub ? hub : configuration["EVENTHUB_NAME"] ?? configuration["EventHubs:EventHubName"] ?? "";
            if (configuration["EVENTHUB_CONSUMER_GROUP"] is { Length: > 0 } group && configuration[CheckpointOptions.Section + ":ConsumerGroup"] is null)
            {
                o.ConsumerGroup = group;
            }
        }).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new CheckpointPositions(
            new BlobServiceClient(sp.GetRequiredService<IOptions<CheckpointOptions>>().Value.BlobServiceUri, sp.GetRequiredService<TokenCredential>()),
            sp.GetRequiredService<IOptions<CheckpointOptions>>()));
        // Checkpoints are trusted only once they are IngestionSettle old: queued rows land after the checkpoint (decision 063).
        services.AddSingleton(sp => new KustoBucketCorrections(
            sp.GetRequiredService<KustoClient>(), sp.GetRequiredService<IOptions<KustoOptions>>().Value,
            new SettledPositions(sp.GetRequiredService<CheckpointPositions>(),
                sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(sp.GetRequiredService<IOptions<ReconcileReportOptions>>().Value.ReportContainer),
                sp.GetRequiredService<IOptions<ReconcileReportOptions>>().Value.IngestionSettle,
                sp.GetRequiredService<TimeProvider>())));
        services.AddSingleton<ReconcileMetrics>();
        services.AddSingleton(sp => new Reconciler(
            sp.GetRequiredService<CaptureBlobSource>(),
            sp.GetRequiredService<KustoBucketCorrections>(),
            sp.GetRequiredService<IOptions<ReconcileOptions>>().Value,
            sp.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ReconcileMetrics>(),
            sp.GetService<FloodRule>()));
        services.AddSingleton(sp => new KustoReconciledWindows(sp.GetRequiredService<KustoClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AzureReconciliation>();
        // Lag of every partition from its checkpoint, on a timer (MonitorPartitionLag); its own consumer group.
        services.AddSingleton(sp =>
        {
            var hub = sp.GetRequiredService<IOptions<EventHubClickLogOptions>>().Value;
            var credential = sp.GetRequiredService<TokenCredential>();
            string group = sp.GetRequiredService<IConfiguration>()["LagMonitor:ConsumerGroup"] is { Length: > 0 } g ? g : "lagmonitor";
            return new PartitionLagMonitor(sp.GetRequiredService<EventHubProducerClient>(), sp.GetRequiredService<CheckpointPositions>(),
                (partition, sequence) => PartitionLagMonitor.Receiver(group, hub.FullyQualifiedNamespace, hub.EventHubName, credential, partition, sequence),
                sp.GetRequiredService<AzureClickMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<PartitionLagMonitor>>());
        });

        builder.AddClickTelemetry(credential);
        return builder;
    }
}
