using System.CommandLine;
using System.Net.Sockets;
using ClickFunctions.Embedded;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// <c>serve</c>, also the root's own action: runs the local host. Options it does not know are handed to the host's
/// configuration as ASP.NET Core reads them (<c>--Advertisers:adv-1:ApiKey=…</c>, <c>--urls …</c>).
/// </summary>
public sealed class ServeCommand : ICliCommand
{
    public Command Create()
    {
        var serve = new Command("serve", "Runs the local host (the default when no subcommand is given).");
        Configure(serve);
        return serve;
    }

    public static void Configure(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {LocalPaths.DefaultUrl})" };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data directory (default {EmbeddedPaths.DefaultDataDirectory})" };
        command.Options.Add(urls);
        command.Options.Add(dataDir);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            // The arguments as given, minus the subcommand's name: the host's configuration reads them itself.
            var args = CliRoot.Arguments.ToList();
            if (args is ["serve", ..])
            {
                args.RemoveAt(0);
            }
            return await RunAsync([.. args], cancellationToken).ConfigureAwait(false);
        });
    }

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        // No watching of appsettings files for changes: a watcher on the working directory costs CPU on the click path.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        // A failed start is reported once, as one line, by the CLI (CliRoot), not as the host's logged stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.None);
        builder.AddLocalHost();
        await using var app = builder.Build();
        app.MapLocalHost();
        try
        {
            await app.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"{e.Message.TrimEnd('.')}: another process (perhaps another local host) holds the port; stop it or choose another with --urls.", 1);
        }
        catch (OptionsValidationException e)
        {
            throw new CliException($"Invalid configuration: {string.Join(" ", e.Failures)}", 2);
        }
        return 0;
    }
}
