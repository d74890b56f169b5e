using ClickFunctions.Aggregation;

namespace ClickFunctions.Tests.Aggregation;

public class DimensionCountCollectionTests
{
    [Fact]
    public void Values_of_each_dimension_add_up_separately_and_enumerate_once_each()
    {
        var counts = new DimensionCountCollection();

        counts.Add(ClickDimension.Country, "DE", 1, 0);
        counts.Add(ClickDimension.Country, "US", 0, 1);
        counts.Add(ClickDimension.Device, "mobile", 2, 0);
        counts.Add(ClickDimension.Country, "DE", 3, 1);
        counts.Add(ClickDimension.Country, "FR", 1, 0);
        counts.Add(ClickDimension.SubId, "DE", 5, 5); // the same text in another dimension is another pair
        counts.Add(ClickDimension.Country, "US", 1, 0);

        Assert.Equal(5, counts.Count);
        Assert.Equal(
            new Dictionary<(ClickDimension, string), DimensionClicks>
            {
                [(ClickDimension.Country, "DE")] = new(4, 1),
                [(ClickDimension.Country, "US")] = new(1, 1),
                [(ClickDimension.Country, "FR")] = new(1, 0),
                [(ClickDimension.Device, "mobile")] = new(2, 0),
                [(ClickDimension.SubId, "DE")] = new(5, 5),
            }.OrderBy(e => e.Key),
            counts.Select(e => KeyValuePair.Create(((ClickDimension, string))e.Key, e.Value)).OrderBy(e => e.Key));
    }

    [Fact]
    public void Equal_text_from_different_strings_is_one_value_and_lookups_find_only_what_was_counted()
    {
        var counts = new DimensionCountCollection();
        string first = new('x', 3), second = new('x', 3);

        counts.Add(ClickDimension.Referrer, first, 1, 0);
        counts.Add(ClickDimension.Referrer, second, 1, 0);

        Assert.Single(counts);
        Assert.True(counts.TryGetValue((ClickDimension.Referrer, "xxx"), out var referrer));
        Assert.Equal(new DimensionClicks(2, 0), referrer);
        Assert.False(counts.TryGetValue((ClickDimension.Referrer, "yyy"), out _));
        Assert.False(counts.TryGetValue((ClickDimension.Country, "xxx"), out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => counts.Add((ClickDimension)DimensionCodes.Count, "x", 1, 0));
    }

    [Fact]
    public void Many_values_of_one_dimension_grow_the_entries_and_keep_every_count()
    {
        var counts = new DimensionCountCollection();
        for (int round = 0; round < 3; round++)
        {
            for (int v = 0; v < 100; v++)
            {
                counts.Add(ClickDimension.Publisher, "pub-" + v, v, round);
            }
        }

        Assert.Equal(100, counts.Count);
        for (int v = 0; v < 100; v++)
        {
            Assert.True(counts.TryGetValue((ClickDimension.Publisher, "pub-" + v), out var c));
            Assert.Equal(new DimensionClicks(3L * v, 3), c);
        }
    }
}
