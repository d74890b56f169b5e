// OFFLINE BUILD STAND-IN. Compiled only when UseEventHubsExtension=false (see ClickFunctions.csproj and
// docs/decisions/0NN-azure-offline-eventhubs-trigger.md). A deploy build uses the real attribute from
// Microsoft.Azure.Functions.Worker.Extensions.EventHubs instead and removes this folder from compilation.
//
// It has the real attribute's name, namespace, constructor, properties and binding capabilities, so the function
// code compiles unchanged against either, and the SDK's metadata generator emits the same functions.metadata
// binding (type "eventHubTrigger", direction in, eventHubName, connection, consumerGroup, cardinality many).
// It deliberately carries no [assembly: ExtensionInformation]: that would make the SDK's inner build restore the
// host extension Microsoft.Azure.WebJobs.Extensions.EventHubs, which this machine cannot download. So an offline
// build's .azurefunctions/extensions.json lacks the Event Hubs host extension and the app is not deployable.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

[BindingCapabilities(KnownBindingCapabilities.FunctionLevelRetry)]
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class EventHubTriggerAttribute(string eventHubName) : TriggerBindingAttribute, ISupportCardinality
{
    public string EventHubName { get; } = eventHubName;

    public string? ConsumerGroup { get; set; }

    public string? Connection { get; set; }

    [DefaultValue(true)]
    public bool IsBatched { get; set; } = true;

    Cardinality ISupportCardinality.Cardinality
    {
        get => IsBatched ? Cardinality.Many : Cardinality.One;
        set => IsBatched = value == Cardinality.Many;
    }
}
