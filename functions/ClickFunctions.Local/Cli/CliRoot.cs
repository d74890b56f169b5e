using System.CommandLine;
using System.Diagnostics.CodeAnalysis;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// The one command line of the local host: <c>serve</c> (the default when no subcommand is given) and every
/// <see cref="ICliCommand"/> in this assembly. <c>--help</c> anywhere prints help and starts nothing; every error
/// is one line on stderr (no stack trace) with a non-zero exit code.
/// </summary>
public static class CliRoot
{
    public const int Failed = 1;

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The local host is not trimmed; commands are found in this assembly.")]
    public static RootCommand Build()
    {
        var root = new RootCommand("ClickFunctions local host: with no subcommand it serves clicks and the query API (same as `serve`).");
        ServeCommand.Configure(root);
        var commands = typeof(CliRoot).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ICliCommand).IsAssignableFrom(t))
            .Select(t => ((ICliCommand)Activator.CreateInstance(t)!).Create())
            .OrderBy(c => c.Name, StringComparer.Ordinal);
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    /// <summary>The process's arguments as given, for <c>serve</c>, which hands them to the host's configuration.</summary>
    public static IReadOnlyList<string> Arguments { get; private set; } = [];

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Arguments = args;
        try
        {
            var root = Build();
            var parsed = root.Parse(args);
            // A first bare word that is no subcommand is a typo, not a configuration value for `serve`.
            if (parsed.CommandResult.Command == root && args is [var first, ..] && !first.StartsWith('-'))
            {
                return Error($"Unknown command '{first}'. Commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))} (see --help).", 2);
            }
            // Parse errors as one line naming the command's help, instead of the errors followed by the whole usage.
            if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
            {
                var names = new List<string>();
                for (var c = parsed.CommandResult; c is not null && c.Command != root; c = c.Parent as System.CommandLine.Parsing.CommandResult)
                {
                    names.Insert(0, c.Command.Name);
                }
                string help = string.Join(' ', [.. names, "--help"]);
                return Error($"{string.Join(" ", parsed.Errors.Select(e => e.Message.TrimEnd('.') + "."))} (see {help})", 2);
            }
            // Parse errors as one line, not System.CommandLine's list followed by the whole help text; --help still wins.
            if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
            {
                string usage = string.Join(' ', parsed.CommandResult.Command.Parents.OfType<Command>().Reverse().Append(parsed.CommandResult.Command).Skip(1).Select(c => c.Name));
                return Error($"{string.Join(" ", parsed.Errors.Select(e => e.Message))} (see {(usage.Length == 0 ? "" : usage + " ")}--help)", 2);
            }
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                // The host handles SIGINT/SIGTERM itself (a graceful stop); reconcile is safe to interrupt.
                ProcessTerminationTimeout = null,
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (CliException e)
        {
            return Error(e.Message, e.ExitCode);
        }
#pragma warning disable CA1031 // The CLI's promise: any failure is one line, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Error(Describe(e), Failed);
        }
    }

    /// <summary>One line for an exception: its message and those of its inner exceptions, without stack traces.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var parts = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AggregateException { InnerExceptions.Count: > 1 } aggregate)
            {
                parts.AddRange(aggregate.InnerExceptions.Select(i => i.Message));
                break;
            }
            if (parts.Count == 0 || !parts[^1].Contains(e.Message, StringComparison.Ordinal))
            {
                parts.Add(e.Message);
            }
        }
        return string.Join(": ", parts).ReplaceLineEndings(" ");
    }

    private static int Error(string message, int code)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return code;
    }
}
