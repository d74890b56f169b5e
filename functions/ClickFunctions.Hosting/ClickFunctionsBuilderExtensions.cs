using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Hosting.Geo;
using ClickFunctions.Hosting.Options;
using ClickFunctions.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting;

public static class ClickFunctionsBuilderExtensions
{
    /// <summary>
    /// Wires the core both hosts share: validated options, click signing, fingerprints, the capture and aggregation
    /// services and metrics. Each host adds its own adapters (a click log, a claim store, a bucket store).
    /// </summary>
    public static IHostApplicationBuilder AddClickFunctionsCore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ClickSigningOptions>().BindConfiguration(ClickSigningOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClickSigningOptions>, ClickSigningOptionsValidator>();
        // Fingerprint keys: a host that registered its own (the local host's random, destroyed day keys) needs no
        // master secret; otherwise they derive from Privacy:FingerprintSecret.
        if (!services.Any(d => d.ServiceType == typeof(IFingerprintKeys)))
        {
            services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section).ValidateDataAnnotations()
                .Validate(o => IsBase64OfAtLeast(o.FingerprintSecret, 16), "Privacy:FingerprintSecret must be base64 of at least 16 bytes.")
                .ValidateOnStart();
            services.AddSingleton<IFingerprintKeys>(sp => new DerivedFingerprintKeys(Convert.FromBase64String(sp.GetRequiredService<IOptions<PrivacyOptions>>().Value.FingerprintSecret)));
        }
        services.AddOptions<ClicksOptions>().BindConfiguration(ClicksOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ClickMetrics>();
        services.TryAddSingleton(sp => new Signing.ClickUrlSigner(sp.GetRequiredService<IOptions<ClickSigningOptions>>().Value.ToKeyRing()));
        services.TryAddSingleton(sp => new FingerprintHasher(sp.GetRequiredService<IFingerprintKeys>()));
        services.AddOptions<GeoOptions>().BindConfiguration(GeoOptions.Section).ValidateOnStart();
        services.AddOptions<InvalidTrafficOptions>().BindConfiguration(InvalidTrafficOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.FloodWindow.Ticks % TimeSpan.TicksPerMinute == 0, "InvalidTraffic:FloodWindow must be whole minutes.")
            .Validate(o => DataCentreRangesParse(o), "InvalidTraffic:DataCentreRanges must be CIDR ranges such as 203.0.113.0/24 (no host bits set).")
            .ValidateOnStart();
        services.TryAddSingleton<ICountryLookup>(sp => sp.GetRequiredService<IOptions<GeoOptions>>().Value.CountryDatabase is { Length: > 0 } path
            ? new MaxMindCountryLookup(path)
            : NoCountryLookup.Instance);
        services.TryAddSingleton(sp =>
        {
            var traffic = sp.GetRequiredService<IOptions<InvalidTrafficOptions>>().Value;
            return new ClickCaptureOptions
            {
                ClickIdParameter = sp.GetRequiredService<IOptions<ClicksOptions>>().Value.ClickIdParameter,
                DataCentres = traffic.DataCentreRanges.Count == 0 ? null : new DataCentreRanges(traffic.DataCentreRanges),
                Countries = sp.GetRequiredService<ICountryLookup>() is NoCountryLookup ? null : sp.GetRequiredService<ICountryLookup>(),
            };
        });
        services.TryAddSingleton<ClickCapture>();
        services.AddHostedService<CrawlerPatternsWarmUp>();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<InvalidTrafficOptions>>().Value is { FloodClicks: { } max } traffic
            ? new FloodRule(max, traffic.FloodWindow)
            : FloodRule.Off);
        services.TryAddSingleton(sp => new AggregationStep(sp.GetRequiredService<IClaimStore>(), sp.GetRequiredService<FloodRule>()));
        return builder;
    }

    private static bool DataCentreRangesParse(InvalidTrafficOptions options)
    {
        try
        {
            _ = new DataCentreRanges(options.DataCentreRanges);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Builds the crawler automata in the background as the host starts (seconds of CPU on a small, busy machine),
    /// so the first clicks do not wait for it. Readiness does not wait either: a click that comes first builds them.
    /// </summary>
    private sealed class CrawlerPatternsWarmUp : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = Task.Run(() => CrawlerPatterns.Verdict("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"), CancellationToken.None);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class NoCountryLookup : ICountryLookup
    {
        public static readonly NoCountryLookup Instance = new();

        public string? CountryOf(System.Net.IPAddress address) => null;
    }

    private static bool IsBase64OfAtLeast(string? text, int bytes)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out int written) && written >= bytes;
    }
}
