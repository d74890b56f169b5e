namespace ClickFunctions.Azure.Kusto;

/// <summary>ADX refused or failed a request, by HTTP status or by errors reported inside a 200 response.</summary>
public sealed class KustoException : Exception
{
    public KustoException()
    {
    }

    public KustoException(string message) : base(message)
    {
    }

    public KustoException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public KustoException(string message, int? status, string? code, string? clientRequestId) : base(message)
    {
        Status = status;
        Code = code;
        ClientRequestId = clientRequestId;
    }

    /// <summary>HTTP status, or null when the error came inside a 200 response.</summary>
    public int? Status { get; }

    /// <summary>The OneApi error code, e.g. <c>LimitsExceeded</c>.</summary>
    public string? Code { get; }

    public string? ClientRequestId { get; }
}
