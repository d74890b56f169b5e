using ClickFunctions.Hosting.Http;
using ClickFunctions.Hosting.Options;
using Microsoft.AspNetCore.Http;

namespace ClickFunctions.Tests.Aggregation;

public class ApiKeyAdvertiserIdentityTests
{
    private static AdvertisersOptions Options(params (string Advertiser, string Key)[] keys)
    {
        var options = new AdvertisersOptions();
        foreach (var (advertiser, key) in keys)
        {
            options.Advertisers[advertiser] = new AdvertiserCredentials { ApiKey = key };
        }
        return options;
    }

    private static async Task<string?> ResolveAsync(AdvertisersOptions options, params string[] headerValues)
    {
        var context = new DefaultHttpContext();
        if (headerValues.Length > 0)
        {
            context.Request.Headers[ApiKeyAdvertiserIdentity.HeaderName] = headerValues;
        }
        return await new ApiKeyAdvertiserIdentity(Microsoft.Extensions.Options.Options.Create(options)).ResolveAsync(context, CancellationToken.None);
    }

    [Fact]
    public async Task A_configured_key_resolves_to_its_advertiser_and_anything_else_to_nobody()
    {
        var options = Options(("adv-1", "key-one-0123456789"), ("adv-2", "key-two-0123456789"));

        Assert.Equal("adv-2", await ResolveAsync(options, "key-two-0123456789"));
        Assert.Null(await ResolveAsync(options));
        Assert.Null(await ResolveAsync(options, "key-two-012345678"));
        Assert.Null(await ResolveAsync(options, "KEY-TWO-0123456789"));
        Assert.Null(await ResolveAsync(options, "key-one-0123456789", "key-two-0123456789"));
    }

    [Fact]
    public void Short_or_shared_keys_and_bad_advertiser_ids_are_refused_at_start()
    {
        var validator = new AdvertisersOptionsValidator();

        Assert.True(validator.Validate(null, Options(("adv-1", "key-one-0123456789"))).Succeeded);
        Assert.Contains("at least 16", validator.Validate(null, Options(("adv-1", "short"))).FailureMessage, StringComparison.Ordinal);
        Assert.Contains("same as another", validator.Validate(null, Options(("adv-1", "key-one-0123456789"), ("adv-2", "key-one-0123456789"))).FailureMessage, StringComparison.Ordinal);
        Assert.Contains("advertiser id", validator.Validate(null, Options(("adv/1", "key-one-0123456789"))).FailureMessage, StringComparison.Ordinal);
    }
}
