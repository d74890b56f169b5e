// OFFLINE BUILD STAND-IN. Compiled only when UseEventHubsExtension=false (`dotnet build`, `dotnet test`; see
// ClickFunctions.csproj and docs/decisions/040-azure-offline-eventhubs-trigger.md). Every `dotnet publish` uses the
// real attribute from Microsoft.Azure.Functions.Worker.Extensions.EventHubs instead and removes this folder.
//
// It declares what the real attribute declares (extensions/Worker.Extensions.EventHubs/src/EventHubTriggerAttribute.cs
// of Azure/azure-functions-dotnet-worker, tag eventhubs-extension-6.5.0): name, namespace, constructor, properties,
// cardinality, BindingCapabilities(FunctionLevelRetry), ConverterFallbackBehavior(Default) and an InputConverter whose
// converter advertises SupportsDeferredBinding for EventData and EventData[]. The SDK's metadata generator reads
// exactly these, so functions.metadata gets the same binding, including "properties": {"SupportsDeferredBinding":
// "True"} for an EventData[] parameter (the infra tests compare it with the real extension's binding).
// It deliberately carries no [assembly: ExtensionInformation]: that would make the SDK's inner build restore the
// host extension Microsoft.Azure.WebJobs.Extensions.EventHubs, which this machine cannot download. So an offline
// build's .azurefunctions/extensions.json lacks the Event Hubs host extension and the app is not deployable.
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

[InputConverter(typeof(EventDataConverter))]
[ConverterFallbackBehavior(ConverterFallbackBehavior.Default)]
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
