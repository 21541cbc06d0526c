using Orders.Processor.Failures;
using Orders.Processor.Loop;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>How much a partition may have outstanding before it pauses (bounded memory, no starvation).</summary>
/// <param name="MaxOutstanding">Records taken in hand and not done (in flight, waiting for their key or a retry).</param>
/// <param name="MaxOutOfOrder">Records completed above the partition's lowest incomplete one.</param>
public readonly record struct FlowLimits(int MaxOutstanding, int MaxOutOfOrder);

/// <summary>
/// Pauses a partition with too much outstanding or completed out of order, and resumes it once
/// it has half as much (unless it is paused for another reason too): memory stays bounded, and a
/// key stuck in retries holds the rest back no further than these limits.
/// </summary>
internal sealed class FlowControl(FlowLimits limits, IConsumerPort consumer, PausedPartitions paused)
{
    public void Apply(PartitionState state)
    {
        var outOfOrder = state.Offsets.CompletedAboveCount;
        if (!state.Backpressured && (state.Outstanding >= limits.MaxOutstanding || outOfOrder >= limits.MaxOutOfOrder))
        {
            state.Backpressured = true;
            consumer.Pause([state.Partition]);
        }
        else if (state.Backpressured && state.Outstanding <= limits.MaxOutstanding / 2 && outOfOrder <= limits.MaxOutOfOrder / 2)
        {
            state.Backpressured = false;
            if (!paused.Contains(state.Partition) && !state.Checkpoint.Held && !state.Released)
            {
                state.ResumeOn(consumer);
            }
        }
    }
}
