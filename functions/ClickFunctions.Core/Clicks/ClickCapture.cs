using ClickFunctions.Ports;
using ClickFunctions.Signing;

namespace ClickFunctions.Clicks;

public sealed record ClickCaptureOptions
{
    /// <summary>When set, the click id is appended to the landing URL under this query parameter name.</summary>
    public string? ClickIdParameter { get; init; }

    /// <summary>Data-centre ranges: clicks from inside are invalid with reason <c>data_centre</c> (none by default).</summary>
    public DataCentreRanges? DataCentres { get; init; }

    /// <summary>The country database; without one every click's country is <c>unknown</c>.</summary>
    public ICountryLookup? Countries { get; init; }
}

/// <summary>The outcome of one click request: a redirect to make, or a rejection to explain.</summary>
public sealed record CaptureResult(ClickEvent? Click, string? Location, VerificationStatus Status, string? Problem)
{
    public bool IsRedirect => Location is not null;
}

/// <summary>
/// The click path shared by both hosts: verify the signed URL, classify, build the event, make it durable,
/// and only then hand back the redirect.
/// </summary>
public sealed class ClickCapture(ClickUrlSigner signer, FingerprintHasher fingerprints, IClickLog log, TimeProvider time, ClickCaptureOptions options, ClickMetrics metrics)
{
    public async ValueTask<CaptureResult> CaptureAsync(ClickRequest request, ClickUrlParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var verification = signer.Verify(parameters, now);
        if (verification.Fields is not { } fields)
        {
            metrics.Rejected(verification.Status);
            return new CaptureResult(null, null, verification.Status, verification.Problem);
        }
        var click = BuildEvent(request, fields, now);
        await log.AppendAsync(click, cancellationToken).ConfigureAwait(false);
        metrics.Recorded();
        return new CaptureResult(click, Location(fields.LandingUrl, click.ClickId), VerificationStatus.Valid, null);
    }

    public ClickEvent BuildEvent(ClickRequest request, ClickUrlFields fields, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(fields);
        var fingerprint = fingerprints.Compute(request.RemoteIp, request.UserAgent, now);
        var id = fields.ImpressionId is { } impression
            ? ClickId.FromImpression(fields.AdvertiserId, fields.AdId, impression)
            : ClickId.FromFingerprint(fields.AdId, fingerprint, now);
        var reason = ClickClassifier.Classify(request, options.DataCentres);
        return new ClickEvent(
            id,
            now,
            fields.AdId,
            fields.AdvertiserId,
            fields.CampaignId ?? "",
            reason,
            ReferrerHost(request.Referer),
            IpTruncation.Truncate(request.RemoteIp),
            fingerprint)
        {
            Dimensions = Dimensions(request, fields, reason),
        };
    }

    /// <summary>The breakdown dimensions, from the full address and the request's headers (before truncation).</summary>
    private ClickDimensions Dimensions(ClickRequest request, ClickUrlFields fields, ClickReason reason)
    {
        bool crawler = reason is ClickReason.BotUserAgent or ClickReason.LinkPreview;
        var (device, os, browser) = DeviceClassifier.Classify(new BrowserSignals(request.UserAgent, request.ChUaMobile, request.ChUaPlatform, request.ChUa), crawler);
        return new ClickDimensions(
            Country(request.RemoteIp),
            device,
            os,
            browser,
            fields.Publisher ?? "",
            fields.Placement ?? "",
            fields.Creative ?? "",
            fields.SubId ?? "");
    }

    private string Country(System.Net.IPAddress? address)
    {
        if (address is null || options.Countries is not { } countries)
        {
            return ClickDimensions.UnknownCountry;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        string? code = countries.CountryOf(address);
        return code is { Length: 2 } && ClickDimensions.IsValidCountry(code) ? code : ClickDimensions.UnknownCountry;
    }

    private string Location(string landingUrl, ClickId id)
    {
        if (options.ClickIdParameter is not { Length: > 0 } name)
        {
            return landingUrl;
        }
        int fragment = landingUrl.IndexOf('#', StringComparison.Ordinal);
        string beforeFragment = fragment < 0 ? landingUrl : landingUrl[..fragment];
        string rest = fragment < 0 ? "" : landingUrl[fragment..];
        char separator = beforeFragment.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return $"{beforeFragment}{separator}{Uri.EscapeDataString(name)}={id}{rest}";
    }

    private static string ReferrerHost(string? referer)
    {
        if (referer is null || !Uri.TryCreate(referer, UriKind.Absolute, out var uri))
        {
            return "";
        }
        string host = uri.IdnHost;
        return host.Length <= 253 ? host : host[..253];
    }
}
