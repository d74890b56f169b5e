using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace ClickFunctions.Embedded.Consumer;

/// <summary>
/// One dedicated thread for the consumer's CPU-heavy work (the aggregation step and the store's transaction), run at
/// a raised Linux nice value so that under load the click path's threads win the cores and the consumer takes what
/// is left, catching up in larger batches (decision 092). Nice applies per thread on Linux (setpriority on the
/// thread id, allowed unprivileged when raising it); elsewhere, or if it fails, the thread runs at normal priority.
/// </summary>
internal sealed partial class StoreThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public StoreThread(int nice)
    {
        _thread = new Thread(() => Run(nice)) { IsBackground = true, Name = "click-consumer-store" };
        _thread.Start();
    }

    /// <summary>The nice value the thread got (0 if none was asked for or the OS refused).</summary>
    public int Nice { get; private set; }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // The host is stopping and disposed the consumer while its loop was between steps.
            done.TrySetCanceled();
            return done.Task;
        }
        _work.Add(() =>
        {
            try
            {
                done.TrySetResult(work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        return done.Task;
    }

    private void Run(int nice)
    {
        if (nice != 0 && OperatingSystem.IsLinux() && SetPriority(0 /* PRIO_PROCESS: a thread id on Linux */, GetTid(), nice) == 0)
        {
            Nice = nice;
        }
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }
    }

    private int _disposed;

    /// <summary>Finishes the work queued, stops the thread. Idempotent: the host's container may dispose the consumer twice (it is registered as itself and as a hosted service).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}
