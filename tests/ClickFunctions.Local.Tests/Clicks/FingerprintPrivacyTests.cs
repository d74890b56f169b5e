using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Local;
using ClickFunctions.Ports;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Clicks;

/// <summary>
/// Issue 12 finding 6, privacy by destruction: a stored click (its /24 and fingerprint) must not be linkable to the
/// full IP by anyone holding the whole data directory and every configured secret once the day key is gone. The
/// attack is the one the issue describes: for each secret found, as a day key or as a master secret deriving one,
/// fingerprint each of the 256 addresses of the stored /24 with the known user agent and compare.
/// The host runs in this process (its own composition, Kestrel on loopback) so that a fake clock can end the day.
/// </summary>
public sealed partial class FingerprintPrivacyTests : IDisposable
{
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) privacy-test/1.0";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-privacy-").FullName;

    [Fact]
    public async Task Once_its_day_key_is_destroyed_no_secret_in_the_data_directory_links_a_stored_click_to_its_full_ip()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The development default: nothing configured, so the host makes its own secrets in the data directory.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", "--urls", "http://127.0.0.1:0", "--data-dir", _dataDirectory]);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.AddLocalHost();
        await using var app = builder.Build();
        app.MapLocalHost();
        await app.StartAsync(ct);
        var signer = app.Services.GetRequiredService<ClickUrlSigner>();
        string baseAddress = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseAddress) };

        await ClickAsync(client, signer, "ad-private", ct);
        var stored = StoredClicks().Single();
        Assert.Equal("127.0.0.0", stored.TruncatedIp);
        var day = DateOnly.FromDateTime(stored.Timestamp.UtcDateTime);

        // Control: while the day lasts its key must exist (dedup after a restart needs it), so the attack works.
        Assert.Equal(IPAddress.Loopback, Recover(stored, Secrets(signer)));

        // The day ends; the host destroys the key on its own clock, with no click needed.
        time.Advance(new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) + TimeSpan.FromMinutes(2) - time.GetUtcNow());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        IPAddress? recovered;
        while ((recovered = Recover(stored, Secrets(signer))) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
        }
        Assert.Null(recovered);

        // The host goes on fingerprinting the new day under a new key, which does not reach back either.
        await ClickAsync(client, signer, "ad-private", ct);
        await app.StopAsync(ct);
        Assert.Equal(2, StoredClicks().Count);
        Assert.Null(Recover(stored, Secrets(signer)));
        Assert.Equal(IPAddress.Loopback, Recover(StoredClicks()[1], Secrets(signer)));
    }

    private static async Task ClickAsync(HttpClient client, ClickUrlSigner signer, string ad, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/c?" + signer.SignQuery(new ClickUrlFields(ad, "adv-1", "https://shop.example/")));
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        using var response = await client.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
    }

    private List<ClickEvent> StoredClicks()
    {
        var events = new List<RawEvent>();
        string log = Path.Combine(_dataDirectory, "log");
        foreach (int partition in LocalClickLog.PartitionsIn(log))
        {
            using var reader = LocalClickLog.OpenOfflineReader(log, partition, 0);
            while (reader.Read(events, 10_000) > 0)
            {
            }
        }
        return [.. events.Select(e => ClickWireFormat.Decode(e.Body.Span)).OrderBy(c => c.Timestamp)];
    }

    /// <summary>
    /// Every secret an attacker holding the data directory and the configuration has: the signing key, every base64
    /// string of 16 bytes or more in any file, and every 32-byte window of every small file (raw keys).
    /// </summary>
    private List<byte[]> Secrets(ClickUrlSigner signer)
    {
        var secrets = new List<byte[]>();
        var signingKey = typeof(SigningKey).GetProperty("Secret", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        secrets.Add((byte[])signingKey.GetValue(signer.Keys.Current)!);
        foreach (var path in Directory.EnumerateFiles(_dataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (IOException)
            {
                continue; // a file the host holds exclusively (the DuckDB store while it runs): it holds no key
            }
            // Text as it is, and JSON strings unescaped (a JSON writer may spell '+' as \u002B).
            string text = Encoding.Latin1.GetString(bytes);
            if (path.EndsWith(".json", StringComparison.Ordinal))
            {
                text += "\n" + string.Join('\n', JsonStrings(System.Text.Json.JsonDocument.Parse(bytes).RootElement));
            }
            foreach (Match token in Base64Token().Matches(text))
            {
                var buffer = new byte[token.Length];
                if (Convert.TryFromBase64String(token.Value, buffer, out int written) && written >= 16)
                {
                    secrets.Add(buffer[..written]);
                }
            }
            if (bytes.Length <= 4096)
            {
                for (int i = 0; i + 32 <= bytes.Length; i++)
                {
                    secrets.Add(bytes[i..(i + 32)]);
                }
            }
        }
        return secrets;
    }

    private static IEnumerable<string> JsonStrings(System.Text.Json.JsonElement element) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => [element.GetString()!],
        System.Text.Json.JsonValueKind.Object => element.EnumerateObject().SelectMany(p => JsonStrings(p.Value)),
        System.Text.Json.JsonValueKind.Array => element.EnumerateArray().SelectMany(JsonStrings),
        _ => [],
    };

    private static IPAddress? Recover(ClickEvent stored, List<byte[]> secrets)
    {
        var prefix = IPAddress.Parse(stored.TruncatedIp).GetAddressBytes();
        string day = DateOnly.FromDateTime(stored.Timestamp.UtcDateTime).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Span<byte> digest = stackalloc byte[32];
        foreach (var secret in secrets)
        {
            foreach (var key in new[] { secret, HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("cf-fp-day\n" + day)) })
            {
                for (int last = 0; last < 256; last++)
                {
                    var candidate = new IPAddress([prefix[0], prefix[1], prefix[2], (byte)last]);
                    HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(candidate + "\n" + UserAgent), digest);
                    if (BinaryPrimitives.ReadUInt128BigEndian(digest) == stored.Fingerprint.Value)
                    {
                        return candidate;
                    }
                }
            }
        }
        return null;
    }

    [GeneratedRegex("[A-Za-z0-9+/]{22,}={0,2}")]
    private static partial Regex Base64Token();

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
