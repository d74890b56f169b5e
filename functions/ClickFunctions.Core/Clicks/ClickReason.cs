namespace ClickFunctions.Clicks;

/// <summary>
/// Why a click counts or does not. Stored as one byte in the wire format: never renumber, only append.
/// Invalid clicks are data (docs/architecture.md, invariant 5): each is counted under its reason.
/// </summary>
public enum ClickReason : byte
{
    Valid = 0,
    BotUserAgent = 1,
    MissingUserAgent = 2,
    HeadRequest = 3,
    Prefetch = 4,
    LinkPreview = 5,
    /// <summary>Assigned by the aggregation step, never at capture: the click id was already claimed.</summary>
    Duplicate = 6,
    /// <summary>
    /// Assigned by the aggregation step when flood detection is configured (<c>InvalidTraffic:Flood*</c>): one
    /// fingerprint clicked one ad more than the allowed number of times within one flood window.
    /// </summary>
    ClickFlooding = 7,
    /// <summary>Set at capture, before the IP is truncated: the client address is in a configured data-centre range.</summary>
    DataCentre = 8,
}

public static class ClickReasons
{
    public const ClickReason MaxDefined = ClickReason.DataCentre;

    public static readonly IReadOnlyList<ClickReason> All = Enum.GetValues<ClickReason>();

    public static bool IsDefined(byte value) => value <= (byte)MaxDefined;

    /// <summary>The stable snake_case code used in reports, metrics and JSON.</summary>
    public static string Code(this ClickReason reason) => reason switch
    {
        ClickReason.Valid => "valid",
        ClickReason.BotUserAgent => "bot_user_agent",
        ClickReason.MissingUserAgent => "missing_user_agent",
        ClickReason.HeadRequest => "head_request",
        ClickReason.Prefetch => "prefetch",
        ClickReason.LinkPreview => "link_preview",
        ClickReason.Duplicate => "duplicate",
        ClickReason.ClickFlooding => "click_flooding",
        ClickReason.DataCentre => "data_centre",
        _ => "unknown_" + ((byte)reason).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
