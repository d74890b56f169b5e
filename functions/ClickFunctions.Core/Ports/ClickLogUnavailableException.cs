namespace ClickFunctions.Ports;

/// <summary>
/// Thrown by an <see cref="IClickLog"/> when a click could not be made durable right now (Event Hubs did not
/// acknowledge, the local log could not write). Both hosts answer 503 with Retry-After and no Location.
/// </summary>
public sealed class ClickLogUnavailableException : Exception
{
    public ClickLogUnavailableException() : this("The click log is unavailable.", null)
    {
    }

    public ClickLogUnavailableException(string message) : this(message, null)
    {
    }

    public ClickLogUnavailableException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
