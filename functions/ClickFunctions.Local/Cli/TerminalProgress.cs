using System.Diagnostics;
using System.Globalization;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// A progress line for a long command, redrawn in place on stderr about once a second, only when stderr is a
/// terminal (a redirected stderr, a log file or a test, gets nothing: the result lines stay the only output).
/// </summary>
public sealed class TerminalProgress : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private int _width;

    private TerminalProgress(string label, Func<string> status, TimeSpan interval)
    {
        _loop = RunAsync(label, status, interval);
    }

    /// <summary>Starts a progress line when stderr is a terminal; otherwise a no-op (null is fine to dispose with <c>await using</c>).</summary>
    public static TerminalProgress? Start(string label, Func<string> status) =>
        Console.IsErrorRedirected ? null : new TerminalProgress(label, status, TimeSpan.FromSeconds(1));

    private async Task RunAsync(string label, Func<string> status, TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Draw(string.Create(CultureInfo.InvariantCulture, $"{label}: {status()}, {_elapsed.Elapsed:hh\\:mm\\:ss} elapsed"));
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Draw(string line)
    {
        var padded = line.Length < _width ? line.PadRight(_width) : line;
        _width = line.Length;
        Console.Error.Write("\r" + padded);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        if (_width > 0)
        {
            Console.Error.Write("\r" + new string(' ', _width) + "\r");
        }
    }
}
