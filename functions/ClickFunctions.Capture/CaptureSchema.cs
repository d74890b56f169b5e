namespace ClickFunctions.Capture;

/// <summary>
/// The Avro schema Event Hubs Capture writes (record Microsoft.ServiceBus.Messaging.EventData). The local log
/// writes exactly this schema, so the one reader serves local segments and Capture blobs alike.
/// </summary>
public static class CaptureSchema
{
    public const string Json =
        """{"type":"record","name":"EventData","namespace":"Microsoft.ServiceBus.Messaging","fields":[{"name":"SequenceNumber","type":"long"},{"name":"Offset","type":"string"},{"name":"EnqueuedTimeUtc","type":"string"},{"name":"SystemProperties","type":{"type":"map","values":["long","double","string","bytes"]}},{"name":"Properties","type":{"type":"map","values":["long","double","string","bytes","null"]}},{"name":"Body","type":["null","bytes"]}]}""";

    /// <summary>Capture writes enqueued times as US-style strings, e.g. "11/16/2016 4:44:11 PM" (UTC, second precision).</summary>
    public const string EnqueuedTimeFormat = "M/d/yyyy h:mm:ss tt";

    public static ReadOnlySpan<byte> Magic => "Obj\u0001"u8;

    public const int SyncSize = 16;
}
