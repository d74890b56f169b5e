using ClickFunctions.Signing;
using Microsoft.AspNetCore.WebUtilities;

namespace ClickFunctions.Tests.Signing;

/// <summary>Reads a click URL's query string the way a host does, for tests that sign and verify in-process.</summary>
public static class ClickQueries
{
    public static ClickUrlParameters Parse(string query)
    {
        var q = QueryHelpers.ParseQuery(query);
        string? Get(string name) => q.TryGetValue(name, out var v) ? v.ToString() : null;
        return new ClickUrlParameters(
            Get(ClickUrlParameterNames.Ad), Get(ClickUrlParameterNames.Advertiser), Get(ClickUrlParameterNames.Url),
            Get(ClickUrlParameterNames.Campaign), Get(ClickUrlParameterNames.Impression), Get(ClickUrlParameterNames.Expires),
            Get(ClickUrlParameterNames.KeyId), Get(ClickUrlParameterNames.Signature), null, null,
            Get(ClickUrlParameterNames.Publisher), Get(ClickUrlParameterNames.Placement), Get(ClickUrlParameterNames.Creative), Get(ClickUrlParameterNames.SubId));
    }
}
