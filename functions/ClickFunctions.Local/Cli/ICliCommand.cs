using System.CommandLine;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// One subcommand of the local host's CLI. A type implementing this with a public parameterless constructor is found
/// by <see cref="CliRoot"/> and added under the root: adding a subcommand is adding one such file.
/// </summary>
public interface ICliCommand
{
    /// <summary>The subcommand, with its options and its action (an exit code).</summary>
    Command Create();
}

/// <summary>An error a command reports as one line on stderr with an exit code, without a stack trace.</summary>
public sealed class CliException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
