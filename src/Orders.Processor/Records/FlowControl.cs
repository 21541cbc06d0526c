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
/// <remarks>
/// A hold waits for what is outstanding to end, so a partition is held only while something is,
/// and let go when nothing is, whatever its count out of order. With nothing outstanding every
/// record it has read is done, and what is still incomplete above them (between the runs a restored
/// checkpoint completed, say) ends only once read: holding it then would hold it for good.
/// </remarks>
internal sealed class FlowControl(FlowLimits limits, FetchControl fetch)
{
    /// <summary>After a record of the partition was taken in hand, or completed (inline or dispatched) while something of it is outstanding.</summary>
    public void Apply(PartitionState state)
    {
        var outstanding = state.Outstanding;
        var outOfOrder = state.Offsets.CompletedAboveCount;
        var held = (fetch.HeldFor(state.Partition) & FetchHold.Backpressure) != 0;
        if (!held && outstanding > 0 && (outstanding >= limits.MaxOutstanding || outOfOrder >= limits.MaxOutOfOrder))
        {
            fetch.Hold(state.Partition, FetchHold.Backpressure);
        }
        else if (held && !state.Released && (outstanding == 0 || (outstanding <= limits.MaxOutstanding / 2 && outOfOrder <= limits.MaxOutOfOrder / 2)))
        {
            fetch.Release(state.Partition, FetchHold.Backpressure);
        }
    }
}
