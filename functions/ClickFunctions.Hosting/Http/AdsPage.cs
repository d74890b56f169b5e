using System.Globalization;
using System.Text;
using ClickFunctions.Queries;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// <c>limit</c> and <c>cursor</c> of the advertiser listing. The listing's order is total (clicks, ad, campaign), so a
/// cursor is the position after the last entry returned, as an opaque base64url token; without limit, everything.
/// </summary>
public readonly record struct AdsPage(int Offset, int? Limit)
{
    public const int MaxLimit = 1000;

    public static bool TryParse(string? limit, string? cursor, out AdsPage page, out string problem)
    {
        page = default;
        problem = "";
        int? size = null;
        if (limit is not null)
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > MaxLimit)
            {
                problem = $"limit must be a whole number from 1 to {MaxLimit}.";
                return false;
            }
            size = n;
        }
        int offset = 0;
        if (cursor is not null && !TryDecode(cursor, out offset))
        {
            problem = "cursor is not one this API returned (use nextCursor of the previous page).";
            return false;
        }
        page = new AdsPage(offset, size);
        return true;
    }

    public AdvertiserAds Apply(AdvertiserAds all)
    {
        ArgumentNullException.ThrowIfNull(all);
        if (Limit is null && Offset == 0)
        {
            return all;
        }
        var rest = all.Ads.Skip(Offset).ToList();
        int take = Limit ?? rest.Count;
        var slice = rest.Take(take).ToList();
        return all with { Ads = slice, NextCursor = rest.Count > take ? Encode(Offset + take) : null };
    }

    private static string Encode(int offset) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes("o" + offset.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecode(string cursor, out int offset)
    {
        offset = 0;
        string padded = cursor.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        var buffer = new byte[padded.Length];
        if (cursor.Length > 24 || !Convert.TryFromBase64String(padded, buffer, out int written))
        {
            return false;
        }
        string text = Encoding.ASCII.GetString(buffer, 0, written);
        return text.StartsWith('o') && int.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out offset) && offset >= 0;
    }
}
