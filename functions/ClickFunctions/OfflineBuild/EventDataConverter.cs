// OFFLINE BUILD STAND-IN (see EventHubTriggerAttribute.cs beside it). The real extension's converter turns the host
// extension's model binding data into EventData; an offline build has no host extension, so nothing ever reaches this
// one. It exists for its attributes, which the SDK's metadata generator reads to mark the trigger binding
// SupportsDeferredBinding, as it does for the real converter.
using Azure.Messaging.EventHubs;
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

// AZFW0009 is the SDK analyzer for app code that marks a non-binding type; a converter is where an extension puts the
// attribute (the real EventDataConverter carries the same three), and the metadata generator looks for it there.
#pragma warning disable AZFW0009
[SupportsDeferredBinding]
#pragma warning restore AZFW0009
[SupportedTargetType(typeof(EventData))]
[SupportedTargetType(typeof(EventData[]))]
internal sealed class EventDataConverter : IInputConverter
{
    public ValueTask<ConversionResult> ConvertAsync(ConverterContext context) => new(ConversionResult.Unhandled());
}
