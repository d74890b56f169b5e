using ClickFunctions.Clicks;

namespace ClickFunctions.Ports;

/// <summary>
/// Where clicks become durable. <see cref="AppendAsync"/> completes only once the click is durable (the local log
/// fsync'd it, or Event Hubs acknowledged it); a 302 is sent only after that (docs/architecture.md, invariant 1).
/// Implementations group concurrent appends into one write; they never acknowledge before durability.
/// </summary>
public interface IClickLog
{
    ValueTask AppendAsync(ClickEvent click, CancellationToken cancellationToken);
}
