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

    [Fact]
    public void The_encoding_is_the_documented_layout()
    {
        var bytes = ClickWireFormat.Encode(Sample);

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
        var bytes = ClickWireFormat.Encode(Sample);

        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(bytes.AsSpan(..^1)));
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode([.. bytes, 0]));
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(bytes.AsSpan(..10)));
        var v2 = bytes.ToArray();
        v2[0] = 2;
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(v2));
        var badReason = bytes.ToArray();
        badReason[1] = 200;
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode(badReason));
        Assert.Throws<FormatException>(() => ClickWireFormat.Decode("{\"json\":true}"u8));
    }
}
