using ClickFunctions.Ports;
using ClickFunctions.Signing;

namespace ClickFunctions.Clicks;

public sealed record ClickCaptureOptions
{
    /// <summary>When set, the click id is appended to the landing URL under this query parameter name.</summary>
    public string? ClickIdParameter { get; init; }
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
        return new ClickEvent(
            id,
            now,
            fields.AdId,
            fields.AdvertiserId,
            fields.CampaignId ?? "",
            ClickClassifier.Classify(request),
            ReferrerHost(request.Referer),
            IpTruncation.Truncate(request.RemoteIp),
            fingerprint);
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
