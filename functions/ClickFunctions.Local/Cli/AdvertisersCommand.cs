using System.CommandLine;

namespace ClickFunctions.Local.Cli;

/// <summary><c>advertisers add ID [--name] [--time-zone]</c>: creates an advertiser through the running host's admin API.</summary>
public sealed class AdvertisersCommand : ICliCommand
{
    public Command Create()
    {
        var id = new Argument<string>("id") { Description = "Advertiser id (lower case a-z 0-9 . _ ~ -)" };
        var name = new Option<string?>("--name") { Description = "Display name" };
        var timeZone = new Option<string?>("--time-zone") { Description = "IANA time zone of the advertiser's reports, e.g. Europe/Berlin" };
        var common = AdminClient.Options.Create();
        var add = new Command("add", "Creates an advertiser (409 if it exists); then issue it a key with `keys issue`.") { id, name, timeZone };
        common.AddTo(add);
        add.SetAction(async (result, cancellationToken) =>
        {
            using var client = AdminClient.From(result, common);
            var body = new NewAdvertiserRequest(result.GetValue(id)!, result.GetValue(name), result.GetValue(timeZone));
            await client.SendAsync(HttpMethod.Post, "/api/admin/advertisers", body, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"advertiser {body.Id} created");
            return 0;
        });
        return new Command("advertisers", "Manages advertisers on the running host (admin API).") { add };
    }
}
