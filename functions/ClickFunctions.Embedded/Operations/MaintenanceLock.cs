namespace ClickFunctions.Embedded.Operations;

/// <summary>
/// One maintenance task at a time on a data directory within the host: a backup copying segments and a retention
/// sweep deleting them, or an erasure rewriting them, never overlap.
/// </summary>
public sealed class MaintenanceLock : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public IDisposable Enter()
    {
        _gate.Wait();
        return new Releaser(_gate);
    }

    public void Dispose() => _gate.Dispose();

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
