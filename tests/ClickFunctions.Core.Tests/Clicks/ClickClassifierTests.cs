using ClickFunctions.Clicks;

namespace ClickFunctions.Tests.Clicks;

public class ClickClassifierTests
{
    private const string Browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

    [Theory]
    [InlineData("GET", Browser, null, ClickReason.Valid)]
    [InlineData("HEAD", Browser, null, ClickReason.HeadRequest)]
    [InlineData("GET", Browser, "prefetch", ClickReason.Prefetch)]
    [InlineData("GET", Browser, "prefetch;prerender", ClickReason.Prefetch)]
    [InlineData("GET", Browser, "preview", ClickReason.Prefetch)]
    [InlineData("GET", null, null, ClickReason.MissingUserAgent)]
    [InlineData("GET", "  ", null, ClickReason.MissingUserAgent)]
    [InlineData("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", null, ClickReason.BotUserAgent)]
    [InlineData("GET", "curl/8.5.0", null, ClickReason.BotUserAgent)]
    [InlineData("GET", "python-requests/2.32", null, ClickReason.BotUserAgent)]
    [InlineData("GET", "Mozilla/5.0 HeadlessChrome/120.0", null, ClickReason.BotUserAgent)]
    [InlineData("GET", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", null, ClickReason.LinkPreview)]
    [InlineData("GET", "facebookexternalhit/1.1", null, ClickReason.LinkPreview)]
    [InlineData("GET", "WhatsApp/2.23.20.0", null, ClickReason.LinkPreview)]
    public void Requests_are_classified_by_method_purpose_and_user_agent(string method, string? agent, string? purpose, ClickReason expected) =>
        Assert.Equal(expected, ClickClassifier.Classify(new ClickRequest(method, agent, null, null, purpose)));

    [Fact]
    public void Every_reason_has_a_distinct_stable_code()
    {
        var codes = ClickReasons.All.Select(r => r.Code()).ToList();

        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.Equal("valid", ClickReason.Valid.Code());
        Assert.Equal("duplicate", ClickReason.Duplicate.Code());
        Assert.Equal("bot_user_agent", ClickReason.BotUserAgent.Code());
    }
}
