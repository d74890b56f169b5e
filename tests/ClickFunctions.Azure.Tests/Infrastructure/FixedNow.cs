namespace ClickFunctions.Azure.Tests.Infrastructure;

/// <summary>
/// A clock whose "now" stands still (so lags and buckets are exact) while its timers and delays run in real time
/// (so backoff waits end without a test advancing anything).
/// </summary>
public sealed class FixedNow(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
