using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ClickFunctions.Clicks;

namespace ClickFunctions.Azure.Tests.Telemetry;

/// <summary>
/// Listens to one meter factory's "ClickFunctions" instruments (the listener is process-wide and tests run in
/// parallel, so only this factory's). Measurements are keyed by name, or name{reason} when tagged with a reason (or a status).
/// </summary>
public sealed class MeterRecorder
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _values = new(StringComparer.Ordinal);

    public static (MeterListener Listener, MeterRecorder Seen) Listen(IMeterFactory meters)
    {
        var recorder = new MeterRecorder();
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClickMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => recorder.Add(Key(i, tags), v));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => recorder.Add(Key(i, tags), v));
        listener.Start();
        return (listener, recorder);
    }

    /// <summary>The sum of everything recorded under the key.</summary>
    public double this[string key] => _values.TryGetValue(key, out var values) ? values.Sum() : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public int Count(string key) => _values.TryGetValue(key, out var values) ? values.Count : 0;

    public double Max(string key) => _values[key].Max();

    private void Add(string key, double value) => _values.GetOrAdd(key, _ => new ConcurrentQueue<double>()).Enqueue(value);

    private static string Key(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key is "reason" or "status")
            {
                return instrument.Name + "{" + tag.Value + "}";
            }
        }
        return instrument.Name;
    }
}
