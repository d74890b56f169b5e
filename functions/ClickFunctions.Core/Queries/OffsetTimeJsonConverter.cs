using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClickFunctions.Queries;

/// <summary>
/// Writes an instant as <c>yyyy-MM-ddTHH:mm:ss</c> with its offset: <c>Z</c> at offset zero (as the UTC contract
/// always wrote it), else <c>±hh:mm</c> (e.g. <c>2026-03-08T00:00:00-05:00</c>). Reads any ISO-8601 instant.
/// </summary>
public sealed class OffsetTimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public static string Format(DateTimeOffset value) => value.Offset == TimeSpan.Zero
        ? value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        : value.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString() ?? throw new JsonException("an instant was null"), CultureInfo.InvariantCulture);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Format(value));
    }
}

/// <summary><see cref="OffsetTimeJsonConverter"/> for an optional instant (null is written as null).</summary>
public sealed class NullableOffsetTimeJsonConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v)
        {
            writer.WriteStringValue(OffsetTimeJsonConverter.Format(v));
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
