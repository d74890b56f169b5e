using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// Section <c>TrustedProxies</c>: the reverse proxies (nginx, a load balancer) whose <c>X-Forwarded-For</c> names
/// the client. Off by default: with nothing configured, the client is the TCP peer and any <c>X-Forwarded-For</c> a
/// client sends is ignored, since anyone can send one.
/// </summary>
public sealed class TrustedProxyOptions
{
    public const string Section = "TrustedProxies";

    /// <summary>Addresses of proxies to trust, e.g. <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; } = [];

    /// <summary>Networks of proxies to trust, in CIDR notation, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; } = [];

    /// <summary>
    /// How many proxies' entries to read from the right of <c>X-Forwarded-For</c> (each must be trusted in turn).
    /// One for one proxy; more only for a chain of trusted proxies.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 16)]
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

public sealed class TrustedProxyOptionsValidator : IValidateOptions<TrustedProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustedProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        failures.AddRange(options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _))
            .Select(p => $"TrustedProxies:KnownProxies: '{p}' is not an IP address."));
        failures.AddRange(options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _))
            .Select(n => $"TrustedProxies:KnownNetworks: '{n}' is not a network in CIDR notation (e.g. 10.0.0.0/24)."));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>ASP.NET Core's forwarded-headers middleware, limited to the configured proxies.</summary>
public static class TrustedProxyExtensions
{
    public static IHostApplicationBuilder AddTrustedProxies(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TrustedProxyOptions>, TrustedProxyOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, trusted) =>
        {
            // Only X-Forwarded-For: the client address is all the click path uses. The defaults trust loopback;
            // here only what is configured is trusted.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.ForwardLimit = trusted.Value.ForwardLimit;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in trusted.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in trusted.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }

    /// <summary>Adds the middleware first in the pipeline when proxies are configured; otherwise nothing.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetRequiredService<IOptions<TrustedProxyOptions>>().Value.Enabled)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }
}
