using BenchmarkDotNet.Running;
using ClickFunctions.Benchmarks;

// `query-latency [options]`: seeds (or reuses) a store and prints p50/p99 per query shape; anything else goes to BenchmarkDotNet.
if (args is ["query-latency", ..])
{
    return QueryLatency.Run(args[1..]);
}
if (args is ["log-size", ..])
{
    return await LogSize.RunAsync(args[1..]);
}
if (args is ["step-phases", ..])
{
    return StepPhases.Run(args[1..]);
}
if (args is ["step-loop", ..])
{
    return StepLoop.Run(args[1..]);
}
if (args is ["interleaved", ..])
{
    return Interleaved.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(AggregationStepBenchmark).Assembly).Run(args);
return 0;
