using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>How much a partition may have outstanding before it pauses (bounded memory, no starvation).</summary>
/// <param name="MaxOutstanding">Records taken in hand and not done (in flight, waiting for their key or a retry).</param>
/// <param name="MaxOutOfOrder">Records completed above the partition's lowest incomplete one.</param>
public readonly record struct FlowLimits(int MaxOutstanding, int MaxOutOfOrder);

/// <summary>
/// Holds a partition with too much outstanding or completed out of order, and lets it go once it
/// has half as much (<see cref="FetchControl"/> resumes it if nothing else holds it): memory stays
/// bounded, and a key stuck in retries holds the rest back no further than these limits.
/// </summary>
internal sealed class FlowControl(FlowLimits limits, FetchControl fetch)
{
    public void Apply(PartitionState state)
    {
        var outOfOrder = state.Offsets.CompletedAboveCount;
        var held = (fetch.HeldFor(state.Partition) & FetchHold.Backpressure) != 0;
        if (!held && (state.Outstanding >= limits.MaxOutstanding || outOfOrder >= limits.MaxOutOfOrder))
        {
            fetch.Hold(state.Partition, FetchHold.Backpressure);
        }
        else if (held && state.Outstanding <= limits.MaxOutstanding / 2 && outOfOrder <= limits.MaxOutOfOrder / 2 && !state.Released)
        {
            fetch.Release(state.Partition, FetchHold.Backpressure);
        }
    }
}
