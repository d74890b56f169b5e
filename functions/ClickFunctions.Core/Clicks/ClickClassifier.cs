namespace ClickFunctions.Clicks;

/// <summary>
/// Decides whether a verified click counts, from the request alone. HEAD requests, prefetches and link previews
/// still redirect (the user or the preview must land) but are recorded as invalid with their reason. Bots and link
/// previews are recognised by the <c>crawler-user-agents</c> list (<see cref="CrawlerPatterns"/>).
/// </summary>
public static class ClickClassifier
{
    public static ClickReason Classify(ClickRequest request, DataCentreRanges? dataCentres = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.Equals(request.Method, "HEAD", StringComparison.OrdinalIgnoreCase))
        {
            return ClickReason.HeadRequest;
        }
        if (request.Purpose is { Length: > 0 } purpose &&
            (purpose.Contains("prefetch", StringComparison.OrdinalIgnoreCase) ||
             purpose.Contains("prerender", StringComparison.OrdinalIgnoreCase) ||
             purpose.Contains("preview", StringComparison.OrdinalIgnoreCase)))
        {
            return ClickReason.Prefetch;
        }
        if (string.IsNullOrWhiteSpace(request.UserAgent))
        {
            return ClickReason.MissingUserAgent;
        }
        switch (CrawlerPatterns.Verdict(request.UserAgent))
        {
            case CrawlerVerdict.LinkPreview:
                return ClickReason.LinkPreview;
            case CrawlerVerdict.Bot:
                return ClickReason.BotUserAgent;
        }
        if (dataCentres is not null && dataCentres.Contains(request.RemoteIp))
        {
            return ClickReason.DataCentre;
        }
        return ClickReason.Valid;
    }
}
