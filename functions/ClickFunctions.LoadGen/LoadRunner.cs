using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace ClickFunctions.LoadGen;

public sealed record RunOptions(Uri Target, double? Rate, int Connections, TimeSpan Duration, int MaxInFlight);

public sealed record Outcome(PlannedClick Click, int Status);

/// <summary>
/// Sends the planned clicks. Open loop (a fixed arrival rate): each request has an intended send time, and its
/// latency is measured from that time, so a stalled server cannot hide the queue it caused (no coordinated
/// omission). Closed loop: N connections, each sending its next request when the previous one completes.
/// </summary>
public sealed class LoadRunner(RunOptions options, IReadOnlyList<PlannedClick> plan, TextWriter progress)
{
    private const string BrowserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 ClickFunctions-LoadGen";
    private const string BotAgent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    private readonly LongHistogram _latency = new(TimeStamp.Minutes(1), 3);
    private readonly Lock _histogramLock = new();
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private readonly ConcurrentQueue<Outcome> _outcomes = new();
    private long _completed;
    private long _errors;

    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxConnectionsPerServer = options.Rate is null ? options.Connections : options.MaxInFlight,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        using var client = new HttpClient(handler) { BaseAddress = options.Target, Timeout = TimeSpan.FromSeconds(30) };
        var started = Stopwatch.GetTimestamp();
        using var progressCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportProgressAsync(started, progressCancel.Token);
        long sent = options.Rate is { } rate
            ? await RunOpenLoopAsync(client, rate, started, cancellationToken).ConfigureAwait(false)
            : await RunClosedLoopAsync(client, started, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await progressCancel.CancelAsync().ConfigureAwait(false);
        try
        {
            await reporter.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        return new RunResult(sent, Interlocked.Read(ref _completed), Interlocked.Read(ref _errors), elapsed, _latency, new SortedDictionary<int, int>(_statuses), [.. _outcomes]);
    }

    private async Task<long> RunOpenLoopAsync(HttpClient client, double rate, long started, CancellationToken cancellationToken)
    {
        long total = Math.Min(plan.Count, (long)(rate * options.Duration.TotalSeconds));
        double ticksPerRequest = Stopwatch.Frequency / rate;
        using var inFlight = new SemaphoreSlim(options.MaxInFlight);
        var tasks = new List<Task>((int)Math.Min(total, 1_000_000));
        long i = 0;
        while (i < total && !cancellationToken.IsCancellationRequested)
        {
            long now = Stopwatch.GetTimestamp();
            // Launch everything whose intended time has come; then sleep a little.
            while (i < total && started + (long)(i * ticksPerRequest) <= now)
            {
                long intended = started + (long)(i * ticksPerRequest);
                var click = plan[(int)(i % plan.Count)];
                await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
                tasks.Add(SendAsync(client, click, intended, inFlight, cancellationToken));
                i++;
            }
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return i;
    }

    private async Task<long> RunClosedLoopAsync(HttpClient client, long started, CancellationToken cancellationToken)
    {
        long next = -1;
        long deadline = started + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, options.Connections).Select(async _ =>
        {
            while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
            {
                long i = Interlocked.Increment(ref next);
                if (i >= plan.Count)
                {
                    return;
                }
                await SendAsync(client, plan[(int)i], Stopwatch.GetTimestamp(), null, cancellationToken).ConfigureAwait(false);
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        return Math.Min(Interlocked.Read(ref next) + 1, plan.Count);
    }

    private async Task SendAsync(HttpClient client, PlannedClick click, long intended, SemaphoreSlim? inFlight, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, click.PathAndQuery);
            request.Headers.TryAddWithoutValidation("User-Agent", click.Kind == ClickKind.Bot ? BotAgent : BrowserAgent);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            long micros = (Stopwatch.GetTimestamp() - intended) * 1_000_000 / Stopwatch.Frequency;
            lock (_histogramLock)
            {
                _latency.RecordValue(Math.Max(1, micros));
            }
            _statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            _outcomes.Enqueue(new Outcome(click, (int)response.StatusCode));
            Interlocked.Increment(ref _completed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            Interlocked.Increment(ref _errors);
        }
        finally
        {
            inFlight?.Release();
        }
    }

    private async Task ReportProgressAsync(long started, CancellationToken cancellationToken)
    {
        long last = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            long done = Interlocked.Read(ref _completed);
            double p99;
            lock (_histogramLock)
            {
                p99 = _latency.TotalCount == 0 ? 0 : _latency.GetValueAtPercentile(99) / 1000.0;
            }
            await progress.WriteLineAsync(FormattableString.Invariant(
                $"  {Stopwatch.GetElapsedTime(started).TotalSeconds,5:F0}s  {done,10:N0} done  {done - last,8:N0}/s  p99 so far {p99,8:F2} ms  errors {Interlocked.Read(ref _errors)}")).ConfigureAwait(false);
            last = done;
        }
    }
}

public sealed record RunResult(long Sent, long Completed, long Errors, TimeSpan Elapsed, LongHistogram Latency, SortedDictionary<int, int> Statuses, IReadOnlyList<Outcome> Outcomes)
{
    public double Throughput => Completed / Elapsed.TotalSeconds;

    public double PercentileMs(double percentile) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMs => Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue() / 1000.0;

    public int Redirects => Statuses.GetValueOrDefault((int)HttpStatusCode.Found);
}
