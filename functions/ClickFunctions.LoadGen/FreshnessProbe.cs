using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ClickFunctions.Signing;
using HdrHistogram;

namespace ClickFunctions.LoadGen;

/// <summary>
/// Click-to-query freshness: sends one valid click to a probe ad, then polls the query API every few milliseconds
/// until the count includes it; the time from the 302 to the first answer that shows the click is one sample.
/// </summary>
public sealed class FreshnessProbe(Uri target, ClickUrlSigner signer, string advertiserId, string apiKey, TextWriter output)
{
    public async Task<LongHistogram> RunAsync(int samples, TimeSpan interval, CancellationToken cancellationToken)
    {
        var histogram = new LongHistogram(TimeStamp.Minutes(1), 3);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
        string adId = "fresh-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        long expected = 0;
        for (int i = 0; i < samples; i++)
        {
            if (i > 0 && interval > TimeSpan.Zero)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            }
            string query = signer.SignQuery(new ClickUrlFields(adId, advertiserId, "https://example.com/fresh", null, $"{adId}-{i}"));
            using var click = new HttpRequestMessage(HttpMethod.Get, "/c?" + query);
            click.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) ClickFunctions-Freshness");
            using var response = await client.SendAsync(click, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Found)
            {
                throw new InvalidOperationException($"The probe click answered {(int)response.StatusCode}.");
            }
            long redirected = Stopwatch.GetTimestamp();
            expected++;
            var minute = DateTimeOffset.UtcNow;
            string from = new DateTimeOffset(minute.UtcDateTime.Date, TimeSpan.Zero).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            string to = new DateTimeOffset(minute.UtcDateTime.Date.AddDays(1), TimeSpan.Zero).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/ads/{adId}/clicks?from={from}&to={to}&granularity=day");
                request.Headers.Add("X-Api-Key", apiKey);
                using var answer = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                    if (json.RootElement.GetProperty("total").GetProperty("clicks").GetInt64() >= expected)
                    {
                        break;
                    }
                }
                else if (answer.StatusCode != HttpStatusCode.NotFound)
                {
                    throw new InvalidOperationException($"The query API answered {(int)answer.StatusCode}.");
                }
                if (Stopwatch.GetElapsedTime(redirected) > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException("A probe click was not visible in the query API after 30 s.");
                }
                await Task.Delay(2, cancellationToken).ConfigureAwait(false);
            }
            histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(redirected).TotalMicroseconds));
        }
        await output.WriteLineAsync(FormattableString.Invariant(
            $"freshness  {samples} clicks: p50 {histogram.GetValueAtPercentile(50) / 1000.0:F1} ms  p99 {histogram.GetValueAtPercentile(99) / 1000.0:F1} ms  max {histogram.GetMaxValue() / 1000.0:F1} ms (302 to visible in the query API)")).ConfigureAwait(false);
        return histogram;
    }
}
