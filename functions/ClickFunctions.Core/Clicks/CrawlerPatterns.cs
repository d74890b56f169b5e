using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ClickFunctions.Clicks;

/// <summary>
/// The <c>crawler-user-agents</c> pattern list (npm, MIT; pinned in Clicks/crawler-patterns/package-lock.json and
/// embedded by the build, decision 070), compiled once into two non-backtracking regexes: patterns tagged
/// <c>social-preview</c> (link unfurlers: <see cref="ClickReason.LinkPreview"/>) and all the others
/// (<see cref="ClickReason.BotUserAgent"/>). Patterns are matched as the list's own tests match them: case-sensitive,
/// anywhere in the user agent. <see cref="RegexOptions.NonBacktracking"/> bounds matching to linear time in the
/// user agent's length whatever the patterns, so a hostile user agent cannot make a click slow.
/// </summary>
public static class CrawlerPatterns
{
    public const string ResourceName = "ClickFunctions.Clicks.crawler-user-agents.json";

    /// <summary>User agents are cut to this many characters before matching (RFC 9110 sets no limit; hosts cap headers).</summary>
    public const int MaxUserAgentLength = 2048;

    private static readonly Lazy<(Regex Preview, Regex Bot, int Count)> Compiled = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>How many patterns the embedded list holds.</summary>
    public static int Count => Compiled.Value.Count;

    public static bool IsLinkPreview(ReadOnlySpan<char> userAgent) => Compiled.Value.Preview.IsMatch(Cut(userAgent));

    public static bool IsBot(ReadOnlySpan<char> userAgent) => Compiled.Value.Bot.IsMatch(Cut(userAgent));

    /// <summary>User agents longer than this are matched every time, never remembered (they would fill the cache's memory).</summary>
    public const int MaxCachedUserAgentLength = 512;

    /// <summary>How many user agents' verdicts are remembered; past it the cache starts over (so its memory is bounded).</summary>
    public const int CacheCapacity = 8192;

    private static ConcurrentDictionary<string, CrawlerVerdict> _verdicts = new(StringComparer.Ordinal);
    private static int _cached;

    /// <summary>
    /// What the list says of a user agent: a link preview (checked first), a bot, or neither. Real traffic repeats a
    /// few thousand user agents, so verdicts are remembered per user agent string (decision 091): a repeat costs
    /// one dictionary lookup instead of two automaton runs. A flood of distinct user agents only churns the cache:
    /// each still costs the two linear-time runs, and the cache never holds more than <see cref="CacheCapacity"/>.
    /// </summary>
    public static CrawlerVerdict Verdict(string userAgent)
    {
        ArgumentNullException.ThrowIfNull(userAgent);
        var verdicts = Volatile.Read(ref _verdicts);
        if (verdicts.TryGetValue(userAgent, out var verdict))
        {
            return verdict;
        }
        verdict = IsLinkPreview(userAgent) ? CrawlerVerdict.LinkPreview : IsBot(userAgent) ? CrawlerVerdict.Bot : CrawlerVerdict.None;
        if (userAgent.Length <= MaxCachedUserAgentLength)
        {
            if (Interlocked.Increment(ref _cached) > CacheCapacity)
            {
                Volatile.Write(ref _verdicts, new ConcurrentDictionary<string, CrawlerVerdict>(StringComparer.Ordinal));
                Volatile.Write(ref _cached, 0);
            }
            else
            {
                verdicts.TryAdd(userAgent, verdict);
            }
        }
        return verdict;
    }

    private static ReadOnlySpan<char> Cut(ReadOnlySpan<char> userAgent) =>
        userAgent.Length <= MaxUserAgentLength ? userAgent : userAgent[..MaxUserAgentLength];

    private static (Regex, Regex, int) Load()
    {
        using var stream = typeof(CrawlerPatterns).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing: the build's npm ci step did not run.");
        using var document = JsonDocument.Parse(stream);
        var preview = new List<string>();
        var bot = new List<string>();
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            string pattern = entry.GetProperty("pattern").GetString() ?? throw new InvalidDataException("A crawler pattern without a pattern.");
            bool isPreview = entry.TryGetProperty("tags", out var tags) && tags.EnumerateArray().Any(t => t.GetString() == "social-preview");
            (isPreview ? preview : bot).Add(pattern);
        }
        return (Compile(preview), Compile(bot), preview.Count + bot.Count);
    }

    /// <summary>
    /// The AppContext switch .NET reads (when a regex is constructed) for the largest automaton the non-backtracking
    /// engine agrees to build; its default (10,000 nodes estimated) is below the ~86,000 of the 1,500-pattern
    /// alternation. Only raised, never lowered, and only if the host has not set it.
    /// </summary>
    public const string MaxAutomataSizeSwitch = "REGEX_NONBACKTRACKING_MAX_AUTOMATA_SIZE";

    private const int MaxAutomataSize = 1_000_000;

    private static Regex Compile(List<string> patterns)
    {
        if (AppContext.GetData(MaxAutomataSizeSwitch) is not int configured || configured < MaxAutomataSize)
        {
            AppContext.SetData(MaxAutomataSizeSwitch, MaxAutomataSize);
        }
        return new(string.Join('|', patterns.Select(p => "(?:" + p + ")")), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    }
}

/// <summary>What <see cref="CrawlerPatterns.Verdict"/> found in a user agent.</summary>
public enum CrawlerVerdict : byte
{
    None = 0,
    LinkPreview = 1,
    Bot = 2,
}
