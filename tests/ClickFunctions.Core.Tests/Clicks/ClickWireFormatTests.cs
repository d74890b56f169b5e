using ClickFunctions.Clicks;

namespace ClickFunctions.Tests.Clicks;

public class ClickWireFormatTests
{
    private static readonly ClickEvent Sample = new(
        ClickId.FromImpression("adv-1", "ad-1", "imp-1"),
        new DateTimeOffset(2026, 11, 29, 12, 34, 56, 789, TimeSpan.Zero),
        "ad-1", "adv-1", "cmp-1", ClickReason.BotUserAgent, "news.example", "203.0.113.0",
        new Fingerprint(UInt128.MaxValue - 12345));

    [Fact]
    public void An_event_survives_encoding_and_decoding_unchanged()
    {
        Assert.Equal(Sample, ClickWireFormat.Decode(ClickWireFormat.Encode(Sample)));
        var empty = Sample with { CampaignId = "", ReferrerHost = "", TruncatedIp = "" };
        Assert.Equal(empty, ClickWireFormat.Decode(ClickWireFormat.Encode(empty)));
    }

    private static readonly ClickDimensions SomeDimensions = new("DE", "mobile", "ios", "safari", "pub-1", "plc.top", "crv~9", "sub_42");

    [Fact]
    public void The_version_1_encoding_is_the_documented_layout()
    {
        var bytes = ClickWireFormat.Encode(Sample, ClickWireFormat.Version1);

        Assert.Equal(1, bytes[0]);
        Assert.Equal((byte)ClickReason.BotUserAgent, bytes[1]);
        Assert.Equal(Sample.ClickId.ToString(), Convert.ToHexStringLower(bytes, 2, 16));
        Assert.Equal(Sample.Timestamp.ToUnixTimeMilliseconds(), BitConverter.ToInt64(bytes, 18));
        Assert.Equal(4, bytes[42]);
        Assert.Equal("ad-1"u8.ToArray(), bytes[43..47]);
        Assert.Equal(42 + (1 + 4) + (1 + 5) + (1 + 5) + (1 + 12) + (1 + 11), bytes.Length);
    }

    [Fact]
    public void Truncated_padded_or_unknown_versions_are_rejected_as_malformed()
    {
        foreach (var bytes in new[] { ClickWireFormat.Encode(Sample, ClickWireFormat.Version1), ClickWireFormat.Encode(Sample with { Dimensions = SomeDimensions }) })
        {
            Assert.Throws<FormatException>(() => ClickWireFormat.Decode(bytes.AsSpan(..^1)));
            Assert.Throws<FormatException>(() => ClickWireFormat.Decode([.. bytes, 0]));
            Assert.Throws<FormatException>(() => ClickWireFormat.Decode(bytes.AsSpan(..10)));
            var v3 = bytes.ToArray();
            v3[0] = 3;
            Assert.Contains("Unknown click wire format version 3", Assert.Throws<FormatException>(() => ClickWireFormat.Decode(v3)).Message, StringComparison.Ordinal);
        }
        {
        var bytes = ClickWireFormat.Encode(Sample);
        var badReason = bytes.ToArray();
        badReason[1] = 200;
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(badReason));
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode("{\"json\":true}"u8));
        }
    }

    [Fact]
    public void Version_2_carries_the_dimensions_and_version_1_reads_as_unknown()
    {
        var click = Sample with { Dimensions = SomeDimensions };
        var v2 = ClickWireFormat.Encode(click);
        Assert.Equal(ClickWireFormat.Version2, v2[0]);
        Assert.Equal(click, ClickWireFormat.Decode(v2));
        Assert.Equal(SomeDimensions, ClickWireFormat.Decode(v2).Dimensions);

        var v1 = ClickWireFormat.Encode(click, ClickWireFormat.Version1);
        var old = ClickWireFormat.Decode(v1);
        Assert.Equal(ClickDimensions.Unknown, old.Dimensions);
        Assert.Equal(click with { Dimensions = ClickDimensions.Unknown }, old);

        var unknown = ClickWireFormat.Decode(ClickWireFormat.Encode(Sample));
        Assert.Equal(ClickDimensions.Unknown, unknown.Dimensions);
    }

    [Fact]
    public void The_version_2_encoding_is_the_documented_layout()
    {
        var bytes = ClickWireFormat.Encode(Sample with { Dimensions = SomeDimensions });
        int v1Length = ClickWireFormat.Encode(Sample, ClickWireFormat.Version1).Length;

        Assert.Equal(2, bytes[0]);
        Assert.Equal(ClickWireFormat.Encode(Sample, ClickWireFormat.Version1)[1..], bytes[1..v1Length]);
        Assert.Equal([2, 3, 2, (byte)'D', (byte)'E'], bytes[v1Length..(v1Length + 5)]);
        Assert.Equal(5, bytes[v1Length + 5]);
        Assert.Equal("pub-1"u8.ToArray(), bytes[(v1Length + 6)..(v1Length + 11)]);
        Assert.Equal(v1Length + 5 + (1 + 5) + (1 + 7) + (1 + 5) + (1 + 6), bytes.Length);
        var unknown = ClickWireFormat.Encode(Sample);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 0], unknown[v1Length..]);
    }

    [Theory]
    [InlineData(0, 4)] // device code past the list
    [InlineData(1, 7)] // os
    [InlineData(2, 7)] // browser
    [InlineData(3, (byte)'d')] // a lower-case country letter
    [InlineData(4, 0)] // half an unknown country
    public void Unknown_dimension_codes_are_rejected(int position, byte value)
    {
        var bytes = ClickWireFormat.Encode(Sample with { Dimensions = SomeDimensions });
        int v1Length = ClickWireFormat.Encode(Sample, ClickWireFormat.Version1).Length;
        bytes[v1Length + position] = value;
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(bytes));
    }

    [Fact]
    public void A_reader_of_version_1_only_rejects_version_2_by_its_version_byte()
    {
        // The reader before issue 14 accepted exactly version 1 and threw "Unknown click wire format version 2."
        // for anything else; the consumers dead-letter such an event (never drop or miscount it). This models that
        // reader's first check on a real version 2 body.
        var bytes = ClickWireFormat.Encode(Sample with { Dimensions = SomeDimensions });
        Assert.NotEqual(ClickWireFormat.Version1, bytes[0]);
        // Read as version 1, the body would also run past the five strings: trailing bytes, rejected too.
        var asVersion1 = bytes.ToArray();
        asVersion1[0] = ClickWireFormat.Version1;
        Assert.Contains("trailing bytes", Assert.Throws<FormatException>(() => ClickWireFormat.Decode(asVersion1)).Message, StringComparison.Ordinal);
    }
}
