using System.Text.Json;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>Reads the Event Hubs trigger's binding data: which partition a batch came from.</summary>
public static class TriggerMetadata
{
    public static string PartitionId(IReadOnlyDictionary<string, object?> bindingData)
    {
        ArgumentNullException.ThrowIfNull(bindingData);
        if (bindingData.TryGetValue("PartitionContext", out var value) && value is not null)
        {
            string json = value as string ?? value.ToString() ?? "";
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.TryGetProperty("PartitionId", out var id) && id.GetString() is { Length: > 0 } partition)
            {
                return partition;
            }
        }
        throw new InvalidOperationException("The Event Hubs trigger did not say which partition the batch came from (binding data PartitionContext.PartitionId).");
    }
}
