using Orders.Processor.Aggregates;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class ProcessorPhaseTests
{
    [Theory]
    [InlineData(false, 0, 0, false, ProcessorPhase.Waiting)]
    [InlineData(false, 0, 0, true, ProcessorPhase.NoPartitions)]
    [InlineData(false, 2, 1, true, ProcessorPhase.Restoring)]
    [InlineData(false, 2, 0, true, ProcessorPhase.Processing)]
    [InlineData(true, 2, 0, true, ProcessorPhase.Stopping)]
    [InlineData(true, 2, 1, true, ProcessorPhase.Stopping)]
    [InlineData(true, 0, 0, false, ProcessorPhase.Stopping)]
    public void Phase_StoppingFirst_ThenRestoring_ThenWhetherPartitionsAreHeld(bool stopping, int held, int restoring, bool everAssigned, ProcessorPhase phase)
    {
        var partitions = Enumerable.Range(0, held).ToDictionary(p => p, _ => new PartitionView(0, 0, 0));

        var view = new ProcessorView(new ProcessorCounters(), AggregateData.Empty, partitions, restoring, everAssigned) { Stopping = stopping };

        Assert.Equal(phase, view.Phase);
    }
}
