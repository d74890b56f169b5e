using System.Buffers;

namespace ClickFunctions.Clicks;

/// <summary>
/// Decides whether a verified click counts, from the request alone. HEAD requests, prefetches and link previews
/// still redirect (the user or the preview must land) but are recorded as invalid with their reason.
/// </summary>
public static class ClickClassifier
{
    // Link unfurlers fetch a URL when it is pasted into a chat: a preview, not a person clicking.
    private static readonly SearchValues<string> LinkPreviewAgents = SearchValues.Create(
        ["facebookexternalhit", "Facebot", "Twitterbot", "Slackbot", "Slack-ImgProxy", "WhatsApp", "TelegramBot",
         "Discordbot", "LinkedInBot", "SkypeUriPreview", "Iframely", "redditbot", "Pinterestbot", "Embedly", "vkShare", "Applebot"],
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> BotAgents = SearchValues.Create(
        ["bot", "crawler", "spider", "crawl", "slurp", "curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "httpx",
         "go-http-client", "java/", "okhttp", "libwww-perl", "httpclient", "headlesschrome", "phantomjs", "scrapy", "node-fetch",
         "axios/", "postmanruntime", "lighthouse", "pingdom", "uptimerobot", "monitor", "preview", "scanner"],
        StringComparison.OrdinalIgnoreCase);

    public static ClickReason Classify(ClickRequest request)
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
        var agent = request.UserAgent.AsSpan();
        if (agent.ContainsAny(LinkPreviewAgents))
        {
            return ClickReason.LinkPreview;
        }
        if (agent.ContainsAny(BotAgents))
        {
            return ClickReason.BotUserAgent;
        }
        return ClickReason.Valid;
    }
}
