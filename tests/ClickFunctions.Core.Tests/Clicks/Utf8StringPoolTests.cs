using System.Text;
using ClickFunctions.Clicks;

namespace ClickFunctions.Tests.Clicks;

public class Utf8StringPoolTests
{
    [Fact]
    public void A_repeated_value_is_the_same_string_and_non_ascii_or_long_values_are_decoded_but_not_kept()
    {
        var pool = new Utf8StringPool();

        string a = pool.Get("ad-1"u8);
        Assert.Same(a, pool.Get("ad-1"u8));
        Assert.Equal("ad-1", a);
        Assert.Equal("münchen.example", pool.Get(Encoding.UTF8.GetBytes("münchen.example")));
        Assert.Equal(new string('a', 200), pool.Get(Encoding.ASCII.GetBytes(new string('a', 200))));
        Assert.Equal("", pool.Get([]));
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void The_pool_starts_again_when_full_so_ever_new_values_never_grow_it_past_its_bound()
    {
        var pool = new Utf8StringPool();
        for (int i = 0; i < Utf8StringPool.MaxStrings + 10; i++)
        {
            Assert.Equal("ref-" + i, pool.Get(Encoding.ASCII.GetBytes("ref-" + i)));
        }

        Assert.Equal(10, pool.Count); // cleared once at the bound, then the last ten
        Assert.Equal("ref-0", pool.Get("ref-0"u8));
    }

    [Fact]
    public void Values_of_one_length_stay_distinct_and_each_keeps_its_one_string_as_the_pool_grows()
    {
        var pool = new Utf8StringPool();
        var first = new List<string>();
        for (int i = 0; i < 50_000; i++)
        {
            first.Add(pool.Get(Encoding.ASCII.GetBytes(i.ToString("x8", System.Globalization.CultureInfo.InvariantCulture))));
        }

        Assert.Equal(50_000, pool.Count);
        for (int i = 0; i < first.Count; i++)
        {
            string again = pool.Get(Encoding.ASCII.GetBytes(i.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(i.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), again);
            Assert.Same(first[i], again);
        }
        Assert.Equal("ad-1", pool.Get("ad-1"u8));
        Assert.NotEqual("ad-1", pool.Get("ad-2"u8));
        Assert.Equal(50_002, pool.Count);
    }

    [Fact]
    public void Values_sharing_their_first_sixteen_bytes_or_a_zero_padded_prefix_stay_distinct()
    {
        var pool = new Utf8StringPool();
        string a = pool.Get("sixteen-bytes-ab.example"u8), b = pool.Get("sixteen-bytes-ab.elsewhere"u8);
        string c = pool.Get("pub-1"u8), d = pool.Get("pub-1\0"u8), e = pool.Get("sixteen-bytes-ab"u8);

        Assert.Equal(("sixteen-bytes-ab.example", "sixteen-bytes-ab.elsewhere"), (a, b));
        Assert.Equal(("pub-1", "pub-1\0", "sixteen-bytes-ab"), (c, d, e));
        Assert.Same(b, pool.Get("sixteen-bytes-ab.elsewhere"u8));
        Assert.Same(d, pool.Get("pub-1\0"u8));
        Assert.Same(e, pool.Get("sixteen-bytes-ab"u8));
        Assert.Equal(5, pool.Count);
    }
}
