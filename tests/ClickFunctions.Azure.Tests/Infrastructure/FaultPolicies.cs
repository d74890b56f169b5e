using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ClickFunctions.Azure.Tests.Infrastructure;

/// <summary>
/// Lets matching requests reach the real server (so it commits), then loses the answer: what a client-side timeout
/// or a dropped connection after a successful write looks like to the caller.
/// </summary>
public sealed class LoseResponseAfterCommit(Func<HttpMessage, bool> matches, int times = 1) : HttpPipelinePolicy
{
    private int _remaining = times;
    private int _fired;

    public int Fired => Volatile.Read(ref _fired);

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Lose(message);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Lose(message);
    }

    private void Lose(HttpMessage message)
    {
        if (matches(message) && Interlocked.Decrement(ref _remaining) >= 0)
        {
            Interlocked.Increment(ref _fired);
            throw new IOException("The connection was reset after the request was sent (simulated timeout; the server committed it).");
        }
    }

    public static bool IsTableBatch(HttpMessage message) =>
        message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal);
}

/// <summary>Answers matching requests with 503 Server Busy before they reach the server, a given number of times.</summary>
public sealed class ServerBusy(Func<HttpMessage, bool> matches, int times = 1) : HttpPipelinePolicy
{
    private int _remaining = times;

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Busy(message);
        return ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Busy(message);
        ProcessNext(message, pipeline);
    }

    private void Busy(HttpMessage message)
    {
        if (matches(message) && Interlocked.Decrement(ref _remaining) >= 0)
        {
            throw new RequestFailedException(503, "The server is busy (simulated).", "ServerBusy", null);
        }
    }
}
