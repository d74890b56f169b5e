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

public class CrawlerPatternListTests
{
    private static ClickReason Classify(string agent) => ClickClassifier.Classify(new ClickRequest("GET", agent, null, null, null));

    [Theory]
    // Issue 14: the hand-kept substrings "bot" counted these phones as bots.
    [InlineData("Mozilla/5.0 (Linux; Android 9; CUBOT_P20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.136 Mobile Safari/537.36")]
    [InlineData("Mozilla/5.0 (Linux; Android 8.1.0; M bot 60 Build/OPM2.171019.012) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0")]
    public void Phones_and_browsers_are_not_bots(string agent) => Assert.Equal(ClickReason.Valid, Classify(agent));

    [Theory]
    // The substrings let BrandVerity's crawler through (an instance from the list's own test data).
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.10; rv:41.0) Gecko/20100101 Firefox/55.0 BrandVerity/1.0 (http://www.brandverity.com/why-is-brandverity-visiting-me)")]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")]
    [InlineData("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)")]
    [InlineData("Go-http-client/1.1")]
    public void Crawlers_from_the_list_are_bots(string agent) => Assert.Equal(ClickReason.BotUserAgent, Classify(agent));

    [Fact]
    public void Every_instance_in_the_list_is_recognised_and_previews_keep_their_own_reason()
    {
        // The embedded list is the npm package's file; each entry's instances are real user agents of that crawler.
        using var stream = typeof(CrawlerPatterns).Assembly.GetManifestResourceStream(CrawlerPatterns.ResourceName)!;
        using var document = System.Text.Json.JsonDocument.Parse(stream);
        int instances = 0;
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            bool preview = entry.TryGetProperty("tags", out var tags) && tags.EnumerateArray().Any(t => t.GetString() == "social-preview");
            if (!entry.TryGetProperty("instances", out var list))
            {
                continue;
            }
            foreach (var instance in list.EnumerateArray())
            {
                string agent = instance.GetString()!;
                if (agent.Length == 0)
                {
                    continue;
                }
                instances++;
                var reason = Classify(agent);
                Assert.True(reason is ClickReason.BotUserAgent or ClickReason.LinkPreview, $"{agent} was {reason}");
                if (preview)
                {
                    // A preview agent can also match a non-preview pattern; the preview reason wins.
                    Assert.Equal(ClickReason.LinkPreview, reason);
                }
            }
        }
        Assert.True(CrawlerPatterns.Count > 1000, $"only {CrawlerPatterns.Count} patterns embedded");
        Assert.True(instances > 1000, $"only {instances} instances checked");
    }

    [Fact]
    public void Remembered_verdicts_match_the_automata_through_repeats_and_past_the_cache_capacity()
    {
        const string Slack = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
        const string Google = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        const string Phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        string[] known = [Slack, Google, Phone, new string('a', CrawlerPatterns.MaxCachedUserAgentLength + 1) + " Googlebot/2.1"];
        CrawlerVerdict[] expected = [CrawlerVerdict.LinkPreview, CrawlerVerdict.Bot, CrawlerVerdict.None, CrawlerVerdict.Bot];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < known.Length; i++)
            {
                Assert.Equal(expected[i], CrawlerPatterns.Verdict(known[i]));
            }
            // More distinct agents than the cache holds (it starts over): each verdict is still the automata's.
            for (int i = 0; i < CrawlerPatterns.CacheCapacity + 100; i++)
            {
                string agent = (i % 3) switch
                {
                    0 => $"Mozilla/5.0 (X11; Linux x86_64; rv:{i}.0) Gecko/20100101 Firefox/{i}.0",
                    1 => $"Mozilla/5.0 (compatible; Googlebot/{i}.1; +http://www.google.com/bot.html)",
                    _ => $"facebookexternalhit/{i}.1",
                };
                var verdict = CrawlerPatterns.Verdict(agent);
                var direct = CrawlerPatterns.IsLinkPreview(agent) ? CrawlerVerdict.LinkPreview : CrawlerPatterns.IsBot(agent) ? CrawlerVerdict.Bot : CrawlerVerdict.None;
                Assert.Equal(direct, verdict);
                Assert.Equal((i % 3) switch { 0 => CrawlerVerdict.None, 1 => CrawlerVerdict.Bot, _ => CrawlerVerdict.LinkPreview }, verdict);
            }
        }
    }

    [Fact]
    public void A_hostile_user_agent_is_matched_in_linear_time_and_cut_at_the_limit()
    {
        // NonBacktracking: no pattern can backtrack exponentially; a very long agent is cut, not rejected.
        string agent = "Mozilla/5.0 " + new string('a', 100_000) + " Googlebot/2.1";
        Assert.Equal(ClickReason.Valid, Classify(agent)); // the bot token sits past the 2048-character cut
        Assert.Equal(ClickReason.BotUserAgent, Classify("Googlebot/2.1 " + new string('a', 100_000)));
    }
}
