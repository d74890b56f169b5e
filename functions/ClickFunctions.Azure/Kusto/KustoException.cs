namespace ClickFunctions.Azure.Kusto;

/// <summary>ADX refused or failed a request, by HTTP status or by errors reported inside a 200 response.</summary>
public class KustoException : Exception
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

/// <summary>
/// ADX refused a request in a way that trying again cannot fix: a 4xx other than 408 and 429 (403 forbidden, a bad
/// or missing ingestion mapping, a request too large), or an error ADX marks <c>@permanent</c>. The official Kusto
/// clients tell these apart the same way (throttling and 5xx are retried; permanent errors surface at once).
/// The aggregator dead-letters a batch that meets one instead of retrying it.
/// </summary>
public sealed class KustoPermanentException : KustoException
{
    public KustoPermanentException()
    {
    }

    public KustoPermanentException(string message) : base(message)
    {
    }

    public KustoPermanentException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public KustoPermanentException(string message, int? status, string? code, string? clientRequestId) : base(message, status, code, clientRequestId)
    {
    }
}
