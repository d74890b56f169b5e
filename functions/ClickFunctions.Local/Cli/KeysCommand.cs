using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// <c>keys issue|list|revoke</c>: an advertiser's query API keys through the running host's admin API. <c>issue</c>
/// prints the new key alone on stdout (it is shown once), so <c>KEY=$(… keys issue adv-1)</c> works.
/// </summary>
public sealed class KeysCommand : ICliCommand
{
    public Command Create()
    {
        var common = AdminClient.Options.Create();

        var issueAdvertiser = new Argument<string>("advertiser") { Description = "Advertiser id" };
        var expires = new Option<string?>("--expires") { Description = "Expiry: an ISO-8601 instant (2027-01-01T00:00:00Z) or a lifetime (30.00:00:00); none by default" };
        var issue = new Command("issue", "Issues a new key (printed once on stdout; only its hash is stored).") { issueAdvertiser, expires };
        common.AddTo(issue);
        issue.SetAction(async (result, cancellationToken) =>
        {
            var expiry = ParseExpiry(result.GetValue(expires));
            using var client = AdminClient.From(result, common);
            var answer = await client.SendAsync(HttpMethod.Post, $"/api/admin/advertisers/{Uri.EscapeDataString(result.GetValue(issueAdvertiser)!)}/keys", new NewKeyRequest(expiry), cancellationToken).ConfigureAwait(false);
            var key = answer?.GetProperty("key").GetString() ?? throw new CliException("The host answered without a key.", 1);
            Console.Error.WriteLine($"key id {answer.Value.GetProperty("keyId").GetString()} (shown once: keep the key now)");
            Console.Out.WriteLine(key);
            return 0;
        });

        var listAdvertiser = new Argument<string>("advertiser") { Description = "Advertiser id" };
        var list = new Command("list", "Lists an advertiser's keys: id, prefix, created, expires (never the key).") { listAdvertiser };
        common.AddTo(list);
        list.SetAction(async (result, cancellationToken) =>
        {
            using var client = AdminClient.From(result, common);
            var answer = await client.SendAsync(HttpMethod.Get, $"/api/admin/advertisers/{Uri.EscapeDataString(result.GetValue(listAdvertiser)!)}/keys", null, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine("keyId\tprefix\tcreated\texpires");
            var items = answer is { } a && a.TryGetProperty("keys", out var keys) ? keys : answer ?? default;
            if (items.ValueKind == JsonValueKind.Array)
            {
                foreach (var k in items.EnumerateArray())
                {
                    Console.Out.WriteLine($"{Text(k, "keyId")}\t{Text(k, "prefix")}\t{Text(k, "created")}\t{Text(k, "expires")}");
                }
            }
            return 0;
        });

        var revokeAdvertiser = new Argument<string>("advertiser") { Description = "Advertiser id" };
        var keyId = new Argument<string>("keyId") { Description = "Key id (from `keys list`)" };
        var revoke = new Command("revoke", "Revokes a key: it stops working within a second.") { revokeAdvertiser, keyId };
        common.AddTo(revoke);
        revoke.SetAction(async (result, cancellationToken) =>
        {
            using var client = AdminClient.From(result, common);
            await client.SendAsync(HttpMethod.Delete, $"/api/admin/advertisers/{Uri.EscapeDataString(result.GetValue(revokeAdvertiser)!)}/keys/{Uri.EscapeDataString(result.GetValue(keyId)!)}", null, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"key {result.GetValue(keyId)} revoked");
            return 0;
        });

        return new Command("keys", "Manages advertisers' query API keys on the running host (admin API).") { issue, list, revoke };
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "-";

    private static DateTimeOffset? ParseExpiry(string? text)
    {
        if (text is null)
        {
            return null;
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var lifetime) && lifetime > TimeSpan.Zero)
        {
            return DateTimeOffset.UtcNow + lifetime;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw new CliException($"--expires must be an ISO-8601 instant or a positive lifetime such as 30.00:00:00, not '{text}'.");
    }
}
