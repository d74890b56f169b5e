namespace ClickFunctions.Queries;

/// <summary>A half-open UTC window [<see cref="From"/>, <see cref="To"/>) (docs/architecture.md, invariant 8).</summary>
public readonly record struct TimeRange(DateTimeOffset From, DateTimeOffset To)
{
    public TimeSpan Length => To - From;

    public bool IsEmpty => To <= From;
}
