using ClickFunctions.Azure.EventHubs;

namespace ClickFunctions.Azure.Tests.EventHubs;

public sealed class TriggerMetadataTests
{
    [Fact]
    public void The_partition_of_a_batch_comes_from_the_PartitionContext_binding_data()
    {
        var data = new Dictionary<string, object?>
        {
            ["PartitionContext"] = """{"FullyQualifiedNamespace":"evhns.servicebus.windows.net","EventHubName":"clicks","ConsumerGroup":"aggregator","PartitionId":"7"}""",
        };
        Assert.Equal("7", TriggerMetadata.PartitionId(data));
    }

    [Fact]
    public void A_batch_without_a_partition_is_refused_rather_than_claimed_under_a_wrong_one()
    {
        Assert.Throws<InvalidOperationException>(() => TriggerMetadata.PartitionId(new Dictionary<string, object?>()));
        Assert.Throws<InvalidOperationException>(() => TriggerMetadata.PartitionId(new Dictionary<string, object?> { ["PartitionContext"] = """{"PartitionId":""}""" }));
    }
}
