using System.CommandLine;
using System.Globalization;
using ClickFunctions.Embedded;
using ClickFunctions.Hosting.Options;
using ClickFunctions.Signing;

namespace ClickFunctions.Local;

/// <summary>
/// <c>sign</c>: prints signed click URLs on stdout (and nothing else there), with the same key resolution as the host:
/// configuration (appsettings.json, environment, <c>ClickSigning__*</c>) first, else the data directory's development key.
/// </summary>
public sealed class SignCommand : Cli.ICliCommand
{
    public static readonly ClickUrlFields SampleFields = new("ad-demo-1", "adv-demo", "https://example.com/landing?utm_source=clickfunctions", "cmp-demo");

    public Command Create()
    {
        var ad = new Option<string>("--ad") { Description = "Ad id (1-64 of A-Z a-z 0-9 . _ ~ -)", Required = true };
        var advertiser = new Option<string>("--advertiser") { Description = "Advertiser id", Required = true };
        var url = new Option<string>("--url") { Description = "Landing URL (absolute http or https)", Required = true };
        var campaign = new Option<string?>("--campaign") { Description = "Campaign id" };
        var impression = new Option<string?>("--impression") { Description = "Impression id; with --count, the prefix of <impression>-1..n" };
        var publisher = new Option<string?>("--publisher") { Description = "Publisher / site id, signed as pub (breakdown publisher)" };
        var placement = new Option<string?>("--placement") { Description = "Placement id, signed as plc" };
        var creative = new Option<string?>("--creative") { Description = "Creative id, signed as crv" };
        var subId = new Option<string?>("--sub-id") { Description = "Sub-id, signed as sub" };
        var expires = new Option<TimeSpan?>("--expires-in") { Description = "Lifetime of the URL, e.g. 7.00:00:00 (default: no expiry)" };
        var count = new Option<int>("--count") { Description = "Print this many URLs with impression ids <impression>-1..n", DefaultValueFactory = _ => 1 };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory holding the development key (default {EmbeddedPaths.DefaultDataDirectory})" };
        var baseUrl = new Option<string>("--base") { Description = "Base URL of the click host", DefaultValueFactory = _ => LocalPaths.DefaultUrl };
        var command = new Command("sign", "Prints signed ClickFunctions click URLs.")
        {
            ad, advertiser, url, campaign, impression, publisher, placement, creative, subId, expires, count, dataDir, baseUrl,
        };
        command.SetAction(result =>
        {
            int n = result.GetValue(count);
            if (n < 1)
            {
                Console.Error.WriteLine("--count must be at least 1.");
                return 2;
            }
            string? impressionId = result.GetValue(impression);
            if (n > 1 && impressionId is null)
            {
                impressionId = "imp-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
            }
            var configuration = LocalPaths.CliConfiguration(result.GetValue(dataDir));
            string dataDirectory = EmbeddedPaths.From(configuration).DataDirectory;
            foreach (var note in DevKeys.Apply(configuration, dataDirectory))
            {
                Console.Error.WriteLine(note);
            }
            var options = configuration.GetSection(ClickSigningOptions.Section).Get<ClickSigningOptions>() ?? new ClickSigningOptions();
            var validation = new ClickSigningOptionsValidator().Validate(null, options);
            if (validation.Failed)
            {
                Console.Error.WriteLine(validation.FailureMessage);
                return 2;
            }
            var signer = new ClickUrlSigner(options.ToKeyRing());
            var expiry = result.GetValue(expires) is { } lifetime ? DateTimeOffset.UtcNow + lifetime : (DateTimeOffset?)null;
            string root = result.GetValue(baseUrl)!.TrimEnd('/');
            var output = new System.Text.StringBuilder();
            for (int i = 1; i <= n; i++)
            {
                string? imp = n > 1 ? string.Create(CultureInfo.InvariantCulture, $"{impressionId}-{i}") : impressionId;
                var fields = new ClickUrlFields(result.GetValue(ad)!, result.GetValue(advertiser)!, result.GetValue(url)!, result.GetValue(campaign), imp, expiry,
                    result.GetValue(publisher), result.GetValue(placement), result.GetValue(creative), result.GetValue(subId));
                if (fields.Validate() is { } problem)
                {
                    Console.Error.WriteLine($"Cannot sign: {problem}.");
                    return 2;
                }
                output.AppendLine(ClickUrl(root, signer.SignQuery(fields)));
            }
            Console.Out.Write(output.ToString());
            return 0;
        });
        return command;
    }

    public static string ClickUrl(string baseUrl, string query)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        return $"{baseUrl.TrimEnd('/')}{Hosting.Http.ClickEndpoints.Route}?{query}";
    }
}
