using System.Collections.Concurrent;

namespace ClickFunctions.Azure.Kusto;

/// <summary>The KQL this app sends at run time, read from the embedded Kusto/*.kql files (checked by the infra tests).</summary>
public static class KustoQueries
{
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    public static string AdClicks => Load("AdClicks");

    public static string AdvertiserAds => Load("AdvertiserAds");

    public static string StoredBuckets => Load("StoredBuckets");

    public static string Load(string name) => Cache.GetOrAdd(name, static n =>
    {
        using var stream = typeof(KustoQueries).Assembly.GetManifestResourceStream($"ClickFunctions.Azure.Kusto.{n}.kql")
            ?? throw new InvalidOperationException($"Embedded KQL '{n}.kql' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
