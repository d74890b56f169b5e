using ClickFunctions.Clicks;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>
/// Which Event Hubs partition a click goes to: its click id modulo the hub's partition count. The click id is a
/// SHA-256 of what the click carries (<see cref="ClickId"/>), so
/// <list type="bullet">
/// <item>every instance makes the same choice with no state of its own (no rate tables, no "hot ad" guesses);</item>
/// <item>a double click and a re-sent event have the same id and so land in the same partition as the original
///   (docs/architecture.md, invariant 3), whichever instance took them;</item>
/// <item>the load per partition is total / partitions whatever the skew between ads: an ad with half of all traffic
///   spreads over every partition like the rest, so no partition runs above one throughput unit (1,000 events/s or
///   1 MB/s, Microsoft Learn "Scaling with Event Hubs") before the namespace as a whole does.</item>
/// </list>
/// The partition count of a hub is fixed at creation on the Standard tier ("Azure Event Hubs quotas and limits"), so
/// the mapping is stable for the hub's life. See docs/decisions/065-partition-by-click-id.md.
/// </summary>
public static class ClickPartitions
{
    public static int IndexOf(ClickId clickId, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (int)(clickId.Value % (UInt128)(uint)partitionCount);
    }
}
