namespace ClickFunctions.Azure.Tests.Infrastructure;

/// <summary>A complete, valid set of the app's settings (no secrets: test keys only), as command-line configuration.</summary>
public static class AppSettings
{
    public static Dictionary<string, string> Valid() => new(StringComparer.Ordinal)
    {
        ["ClickSigning:KeyId"] = "k1",
        ["ClickSigning:Key"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
        ["Privacy:FingerprintSecret"] = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray()),
        ["Clicks:ClickIdParameter"] = "cf_click",
        ["EventHubs:FullyQualifiedNamespace"] = "evhns-test.servicebus.windows.net",
        ["EventHubs:EventHubName"] = "clicks",
        ["Claims:TableServiceUri"] = "https://sttest.table.core.windows.net",
        ["AzureWebJobsStorage:accountName"] = "stfunctest",
        ["Capture:BlobServiceUri"] = "https://sttest.blob.core.windows.net",
        ["Capture:Container"] = "capture",
        ["Capture:Namespace"] = "evhns-test",
        ["Kusto:ClusterUri"] = "https://adxtest.westeurope.kusto.windows.net",
        ["Kusto:Database"] = "clicks",
        ["Dedup:Horizon"] = "1.00:00:00",
        ["Reconcile:CaptureWindow"] = "00:05:00",
        ["Reconcile:AllowedLateness"] = "00:10:00",
        ["Advertisers:adv-1:PrincipalId"] = "11111111-1111-1111-1111-111111111111",
        // What the platform sets when App Service authentication is on (the infra turns it on).
        ["WEBSITE_AUTH_ENABLED"] = "True",
    };

    public static string[] AsArgs(IDictionary<string, string> settings) =>
        settings.Select(kv => $"--{kv.Key}={kv.Value}").ToArray();
}
