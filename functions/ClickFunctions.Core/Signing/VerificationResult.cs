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

public sealed record VerificationResult(VerificationStatus Status, ClickUrlFields? Fields, string? Problem)
{
    public bool IsValid => Status == VerificationStatus.Valid;

    public static VerificationResult Ok(ClickUrlFields fields) => new(VerificationStatus.Valid, fields, null);

    public static VerificationResult Fail(VerificationStatus status, string problem) => new(status, null, problem);
}
