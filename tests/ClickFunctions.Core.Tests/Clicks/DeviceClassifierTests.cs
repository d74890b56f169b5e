using ClickFunctions.Clicks;

namespace ClickFunctions.Tests.Clicks;

/// <summary>Issue 14 acceptance: device, os and browser from the user agent and the low-entropy client hints.</summary>
public class DeviceClassifierTests
{
    public const string IPhoneSafari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    public const string IPadSafari = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    // Chrome's reduced user agent on Android: platform version and model frozen ("Android 10; K").
    public const string AndroidChrome = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
    public const string WindowsChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    public const string WindowsEdge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0";
    public const string LinuxFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
    public const string Googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    public const string GooglebotSmartphone = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    private static (string, string, string) Classify(string agent, string? mobile = null, string? platform = null, string? brands = null)
    {
        var request = new ClickRequest("GET", agent, null, null, null, mobile, platform, brands);
        bool crawler = ClickClassifier.Classify(request) is ClickReason.BotUserAgent or ClickReason.LinkPreview;
        return DeviceClassifier.Classify(new BrowserSignals(agent, mobile, platform, brands), crawler);
    }

    [Theory]
    [InlineData(IPhoneSafari, null, null, null, "mobile", "ios", "safari")]
    [InlineData(IPadSafari, null, null, null, "tablet", "ios", "safari")]
    [InlineData(AndroidChrome, null, null, null, "mobile", "android", "chrome")]
    [InlineData(AndroidChrome, "?1", "\"Android\"", "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"", "mobile", "android", "chrome")]
    [InlineData(WindowsChrome, null, null, null, "desktop", "windows", "chrome")]
    [InlineData(WindowsChrome, "?0", "\"Windows\"", "\"Google Chrome\";v=\"124\", \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"", "desktop", "windows", "chrome")]
    [InlineData(WindowsEdge, null, null, null, "desktop", "windows", "edge")]
    [InlineData(WindowsEdge, "?0", "\"Windows\"", "\"Microsoft Edge\";v=\"124\", \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"", "desktop", "windows", "edge")]
    [InlineData(LinuxFirefox, null, null, null, "desktop", "linux", "firefox")]
    [InlineData(Googlebot, null, null, null, "other", "other", "other")]
    [InlineData(GooglebotSmartphone, null, null, null, "other", "other", "other")]
    // Hints win over the frozen user agent: an Android tablet's Chrome sends ?0 and no "Mobile".
    [InlineData("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "?0", "\"Android\"", null, "tablet", "android", "chrome")]
    // A Chromebook, a Mac, Samsung Internet and Opera.
    [InlineData("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", null, null, null, "desktop", "chromeos", "chrome")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", null, null, null, "desktop", "macos", "safari")]
    [InlineData("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", null, null, null, "mobile", "android", "samsung")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0", null, null, null, "desktop", "windows", "opera")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "?0", "\"macOS\"", null, "desktop", "macos", "chrome")]
    [InlineData("SomethingElse/1.0", null, null, null, "other", "other", "other")]
    public void User_agents_and_client_hints_classify_as_expected(string agent, string? mobile, string? platform, string? brands, string device, string os, string browser)
    {
        Assert.Equal((device, os, browser), Classify(agent, mobile, platform, brands));
        Assert.Contains(device, ClickDimensions.Devices);
        Assert.Contains(os, ClickDimensions.OperatingSystems);
        Assert.Contains(browser, ClickDimensions.Browsers);
    }
}
