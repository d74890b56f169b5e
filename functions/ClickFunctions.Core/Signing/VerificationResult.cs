namespace ClickFunctions.Signing;

public enum VerificationStatus
{
    Valid,
    NotSigned,
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
}

public static class VerificationStatuses
{
    /// <summary>The stable snake_case code used in metrics and logs, like <c>ClickReasons.Code</c>.</summary>
    public static string Code(this VerificationStatus status) => status switch
    {
        VerificationStatus.Valid => "valid",
        VerificationStatus.NotSigned => "not_signed",
        VerificationStatus.Malformed => "malformed",
        VerificationStatus.UnknownKey => "unknown_key",
        VerificationStatus.BadSignature => "bad_signature",
        VerificationStatus.Expired => "expired",
        _ => "unknown",
    };
}

public sealed record VerificationResult(VerificationStatus Status, ClickUrlFields? Fields, string? Problem)
{
    public bool IsValid => Status == VerificationStatus.Valid;

    public static VerificationResult Ok(ClickUrlFields fields) => new(VerificationStatus.Valid, fields, null);

    public static VerificationResult Fail(VerificationStatus status, string problem) => new(status, null, problem);
}
