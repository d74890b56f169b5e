using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Functions;
using ClickFunctions.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// Builds the worker's host from the same builder Program uses and runs what Host.StartAsync runs first: the
/// startup validation of every ValidateOnStart option. Then resolves every function class's dependencies.
/// </summary>
public sealed class HostWiringTests
{
    private static async Task<T> WithHostAsync<T>(IDictionary<string, string> settings, Func<IHost, T> act)
    {
        var host = Program.CreateBuilder(AppSettings.AsArgs(settings)).Build();
        try
        {
            return act(host);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    private static void ValidateAtStart(IHost host) => host.Services.GetRequiredService<IStartupValidator>().Validate();

    [Fact]
    public async Task Valid_settings_pass_start_validation_and_every_function_class_resolves()
    {
        var resolved = await WithHostAsync(AppSettings.Valid(), host =>
        {
            ValidateAtStart(host);
            return new object[]
            {
                ActivatorUtilities.CreateInstance<AggregateClicks>(host.Services),
                ActivatorUtilities.CreateInstance<ReconcileClicks>(host.Services),
                ActivatorUtilities.CreateInstance<GetAdClicks>(host.Services),
                ActivatorUtilities.CreateInstance<ListAdvertiserAds>(host.Services),
                ActivatorUtilities.CreateInstance<GetAdBreakdown>(host.Services),
                ActivatorUtilities.CreateInstance<GetAdvertiserBreakdown>(host.Services),
                ActivatorUtilities.CreateInstance<GetMe>(host.Services),
                host.Services.GetRequiredService<ClickCapture>(), // what the static ClickRedirect resolves per request
            };
        });
        Assert.All(resolved, Assert.NotNull);
    }

    [Fact]
    public async Task The_click_log_is_Event_Hubs_and_the_claims_and_buckets_are_Azure()
    {
        var types = await WithHostAsync(AppSettings.Valid(), host => new[]
        {
            host.Services.GetRequiredService<IClickLog>().GetType().Name,
            host.Services.GetRequiredService<IClaimStore>().GetType().Name,
            host.Services.GetRequiredService<IBucketSink>().GetType().Name,
            host.Services.GetRequiredService<IClickQueries>().GetType().Name,
        });
        Assert.Equal(["EventHubClickLog", "TableClaimStore", "KustoBucketSink", "KustoBucketQueries"], types);
    }

    [Theory]
    [InlineData("Kusto:ClusterUri", "ClusterUri")]
    [InlineData("EventHubs:FullyQualifiedNamespace", "FullyQualifiedNamespace")]
    [InlineData("Claims:TableServiceUri", "TableServiceUri")]
    [InlineData("ClickSigning:Key", "Key")]
    public async Task A_missing_required_setting_fails_at_start_naming_it(string setting, string member)
    {
        var settings = AppSettings.Valid();
        settings.Remove(setting);
        var error = await WithHostAsync(settings, host => Record.Exception(() => ValidateAtStart(host)));
        var validation = Assert.IsType<OptionsValidationException>(error, exactMatch: false);
        Assert.Contains(member, validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_duration_fails_at_start()
    {
        var settings = AppSettings.Valid();
        settings["Reconcile:CaptureWindow"] = "02:00:00";
        var error = await WithHostAsync(settings, host => Record.Exception(() => ValidateAtStart(host)));
        Assert.Contains("CaptureWindow", Assert.IsType<OptionsValidationException>(error, exactMatch: false).Message, StringComparison.Ordinal);
    }
}
