using ClickFunctions.Signing;
using Microsoft.AspNetCore.Hosting.Server;

namespace ClickFunctions.Local;

/// <summary>Once the server listens, tells the user where, with what key, and gives a click URL to try.</summary>
public sealed class StartupBanner(IHostApplicationLifetime lifetime, IServer server, StartupNotes notes, ClickUrlSigner signer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            string baseUrl = LocalHostExtensions.BrowsableBase(server);
            string sample = SignCommand.ClickUrl(baseUrl, signer.SignQuery(SignCommand.SampleFields));
            Console.WriteLine($"""
                ClickFunctions local host is running.
                  listening on:   {baseUrl}
                  data directory: {notes.DataDirectory}
                  {string.Join(Environment.NewLine + "  ", notes.Notes)}
                  sample click URL (open it in a browser; it redirects to {SignCommand.SampleFields.LandingUrl}):
                  {sample}
                """);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
