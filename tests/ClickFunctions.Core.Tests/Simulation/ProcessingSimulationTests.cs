using System.Diagnostics;
using System.Globalization;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Tests.Simulation;

public class ProcessingSimulationTests
{
    public const int Scenarios = 1000;

    [Fact]
    public async Task Across_a_thousand_faulty_scenarios_reconciliation_leaves_no_click_lost_or_double_counted()
    {
        var clock = Stopwatch.StartNew();
        var outcomes = new List<ScenarioOutcome>(Scenarios);
        for (int seed = 1; seed <= Scenarios; seed++)
        {
            outcomes.Add(await ProcessingSimulation.RunAsync(seed, TestContext.Current.CancellationToken));
        }
        clock.Stop();

        long valid = outcomes.Sum(o => o.ValidClicks);
        long invalid = outcomes.Sum(o => o.InvalidClicks);
        long lost = outcomes.Sum(o => o.LostBefore);
        long doubled = outcomes.Sum(o => o.DoubledBefore);
        string summary = string.Create(CultureInfo.InvariantCulture, $"""
            Processing simulation: {Scenarios} seeded scenarios (seeds 1..{Scenarios}) in {clock.Elapsed.TotalSeconds:F1} s
              clicks: {valid} valid, {invalid} invalid (oracle)
              faults: {outcomes.Sum(o => o.Crashes)} crashes mid-batch, {outcomes.Sum(o => o.Rebalances)} rebalances, {outcomes.Sum(o => o.Faults)} claim/ingestion failures or timeouts, {outcomes.Sum(o => o.GivenUp)} batches given up after {ProcessingSimulation.MaxAttempts} attempts
              before reconciliation: {lost} valid clicks lost ({outcomes.Count(o => o.LostBefore > 0)} scenarios), {doubled} double-counted ({outcomes.Count(o => o.DoubledBefore > 0)} scenarios); invalid: {outcomes.Sum(o => o.InvalidLostBefore)} lost, {outcomes.Sum(o => o.InvalidDoubledBefore)} double-counted
              aggregator lag beyond the window: {outcomes.Count(o => o.StalledPartitions > 0)} scenarios, {outcomes.Sum(o => o.StalledPartitions)} stalled partitions, {outcomes.Sum(o => o.LagRuns)} reconcile runs during the lag ({outcomes.Sum(o => o.LagRunsWithUnconsumedEvents)} with unconsumed events in the window: {outcomes.Sum(o => o.LagWritesOfUnconsumedEvents)} corrections written)
              retention: {outcomes.Count(o => o.ExpiredEvents > 0)} scenarios with {outcomes.Sum(o => o.ExpiredEvents)} events expired before the aggregator read them, {outcomes.Sum(o => o.Replays)} replays of a partition from its earliest retained event
              most rows one store read returned: {outcomes.Max(o => o.MaxRowsPerRead)}
              scenarios exact before reconciliation: {outcomes.Count(o => o.LostBefore + o.DoubledBefore + o.InvalidLostBefore + o.InvalidDoubledBefore == 0)}
              after reconciliation: {outcomes.Sum(o => o.LostAfter)} lost, {outcomes.Sum(o => o.DoubledAfter)} double-counted, {outcomes.Sum(o => o.InvalidDiffAfter)} invalid off
            """);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        TestContext.Current.SendDiagnosticMessage(summary);

        // The model must actually hurt the stream, or the zeros below would prove nothing.
        Assert.True(lost > 0, "no scenario lost a click before reconciliation");
        Assert.True(doubled > 0, "no scenario double-counted a click before reconciliation");
        Assert.True(outcomes.Sum(o => o.LagRunsWithUnconsumedEvents) > 100, "the lag scenarios must reconcile while events are unconsumed");
        Assert.True(outcomes.Count(o => o.ExpiredEvents > 0) > 50 && outcomes.Sum(o => o.Replays) > 20, "retention scenarios must occur");
        Assert.Equal(0, outcomes.Sum(o => o.LagWritesOfUnconsumedEvents)); // never a correction for an event the aggregator has not consumed
        Assert.All(outcomes, o =>
        {
            Assert.True(o.LostAfter == 0 && o.DoubledAfter == 0 && o.InvalidDiffAfter == 0, $"seed {o.Seed}: {o}");
            Assert.True(o.FirstStatus is ReconcileStatus.Matched or ReconcileStatus.Corrected, $"seed {o.Seed}: {o.FirstStatus}");
            Assert.Equal(ReconcileStatus.Matched, o.SettledStatus);
            Assert.Equal(0, o.SettledWrites);
        });
    }
}
