namespace ClickFunctions.Ports;

/// <summary>
/// A query reaches before what the store still keeps (retention deleted it): answered as a 400 saying so, never as
/// a silent zero. The message names the rollup and the first instant still kept.
/// </summary>
public sealed class RangeNotRetainedException : Exception
{
    public RangeNotRetainedException()
    {
    }

    public RangeNotRetainedException(string message)
        : base(message)
    {
    }

    public RangeNotRetainedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
