using System.Net.Sockets;
using Azure;
using Azure.Identity;
using Azure.Messaging.EventHubs;
using ClickFunctions.Azure.Kusto;

namespace ClickFunctions.Azure.Aggregation;

public enum FailureKind
{
    /// <summary>Worth trying again: throttling (429), a server error (5xx), a timeout, a dropped connection.</summary>
    Transient,

    /// <summary>Trying again gives the same answer: a refused permission (401/403), a bad request or mapping (400), a missing resource, a bug.</summary>
    Permanent,
}

/// <summary>
/// Tells transient from permanent failures of the aggregator's dependencies, by the status the services answer with.
/// ADX: 429 (throttled) and 5xx are retryable, other 4xx are not (Microsoft Learn, "Kusto REST API response codes"
/// / "Query and management HTTP response codes"); Azure Storage: 408, 429 and 5xx except 501 and 505 are retryable
/// (Azure.Core's default retry classification, "Azure Storage error codes"), status 0 means no response (network).
/// </summary>
public static class FailureKinds
{
    public static FailureKind Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            // The ADX client's own verdict (it has already retried what it could, honouring Retry-After).
            KustoPermanentException => FailureKind.Permanent,
            KustoException { Status: { } status } => ByStatus(status),
            // An error inside a 200 response (partial failure): ADX reports throttling there as well.
            KustoException k => k.Code is "Throttled" or "TooManyRequests" or "ServiceUnavailable" ? FailureKind.Transient : FailureKind.Permanent,
            RequestFailedException { Status: 0 } => FailureKind.Transient,
            RequestFailedException r => ByStatus(r.Status),
            EventHubsException e => e.IsTransient ? FailureKind.Transient : FailureKind.Permanent,
            AuthenticationFailedException => FailureKind.Transient,
            HttpRequestException { StatusCode: { } code } => ByStatus((int)code),
            HttpRequestException or IOException or SocketException or TimeoutException => FailureKind.Transient,
            // HttpClient.Timeout surfaces as a TaskCanceledException with a TimeoutException inside.
            TaskCanceledException { InnerException: TimeoutException } => FailureKind.Transient,
            AggregateException { InnerExceptions.Count: > 0 } a => a.InnerExceptions.All(e => Of(e) == FailureKind.Transient) ? FailureKind.Transient : FailureKind.Permanent,
            _ when exception.InnerException is { } inner && exception is not KustoException => Of(inner),
            _ => FailureKind.Permanent,
        };
    }

    private static FailureKind ByStatus(int status) => status switch
    {
        408 or 409 or 412 or 429 => FailureKind.Transient,
        501 or 505 => FailureKind.Permanent,
        >= 500 => FailureKind.Transient,
        _ => FailureKind.Permanent,
    };
}
