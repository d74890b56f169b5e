using System.Net;
using System.Text.Json;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Privacy;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Privacy;

public sealed class DayKeyFileTests : IDisposable
{
    private static readonly IPAddress Ip = IPAddress.Parse("198.51.100.23");
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-daykeys-").FullName;

    private string KeyPath => Path.Combine(_directory, DayKeyFile.FileName);

    private DayKeyFile Open(TimeProvider time) => new(KeyPath, time, NullLogger<DayKeyFile>.Instance);

    /// <summary>
    /// The key file as a reader sees it: every JSON string decoded (a JSON writer may spell '+' as \u002B, so the raw
    /// text would hide a key that is there and make "not contained" pass for the wrong reason).
    /// </summary>
    private string KeyFileText()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(KeyPath));
        var strings = new List<string>();
        Collect(document.RootElement, strings);
        return string.Join('\n', strings);

        static void Collect(JsonElement element, List<string> strings)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    strings.Add(element.GetString()!);
                    break;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        Collect(property.Value, strings);
                    }
                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Collect(item, strings);
                    }
                    break;
            }
        }
    }

    [Fact]
    public void A_user_fingerprints_the_same_all_day_and_across_a_restart_and_differently_the_next_day()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 30, TimeSpan.Zero));
        var morning = new FingerprintHasher(Open(time)).Compute(Ip, "UA", time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(23.9));
        // A restart: the key comes back from the file.
        var restarted = new FingerprintHasher(Open(time));

        Assert.Equal(morning, restarted.Compute(Ip, "UA", time.GetUtcNow()));
        Assert.NotEqual(morning, restarted.Compute(IPAddress.Parse("198.51.100.24"), "UA", time.GetUtcNow()));
        Assert.NotEqual(morning, restarted.Compute(Ip, "UA", time.GetUtcNow().AddDays(1)));
    }

    [Fact]
    public void A_key_is_destroyed_in_memory_and_on_disk_once_its_day_and_the_grace_have_passed()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
        var keys = Open(time);
        var key = keys.KeyFor(time.GetUtcNow());
        string keyText = Convert.ToBase64String(key);
        Assert.Contains(keyText, KeyFileText(), StringComparison.Ordinal);

        time.SetUtcNow(DayKeyFile.ExpiryOf(new DateOnly(2026, 12, 2)) - TimeSpan.FromSeconds(1));
        keys.DestroyExpired();
        Assert.Equal([new DateOnly(2026, 12, 2)], keys.Days);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(keys.DestroyExpired());

        Assert.Empty(keys.Days);
        Assert.DoesNotContain(keyText, KeyFileText(), StringComparison.Ordinal);
        Assert.All(key, b => Assert.Equal(0, b));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
        // Opening the file later finds nothing of it either.
        Assert.Empty(Open(time).Days);
    }

    [Fact]
    public void Keys_expired_while_the_host_was_down_are_destroyed_on_open()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
        string keyText = Convert.ToBase64String(Open(time).KeyFor(time.GetUtcNow()));
        time.Advance(TimeSpan.FromDays(3));

        Assert.Empty(Open(time).Days);
        Assert.DoesNotContain(keyText, KeyFileText(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
