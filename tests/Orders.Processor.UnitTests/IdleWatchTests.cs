using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests;

public sealed class IdleWatchTests
{
    private static readonly LoopActivity QuietHolding = new(Quiet: true, HoldsPartitions: true, EverAssigned: true, OnlyRegistryWaits: false);
    private static readonly LoopActivity QuietBeforeAssignment = new(Quiet: true, HoldsPartitions: false, EverAssigned: false, OnlyRegistryWaits: false);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Check_WithoutUntilIdle_NeverStops()
    {
        var watch = new IdleWatch(_time, idle: null, TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietBeforeAssignment with { OnlyRegistryWaits = true }));
    }

    [Fact]
    public void Check_QuietForTheIdleTime_HoldingPartitions_IsIdle()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(IdleVerdict.Idle, watch.Check(QuietHolding));
    }

    [Fact]
    public void Check_BeforeTheFirstAssignment_WaitsTheFirstAssignmentWait_ThenSaysNeverAssigned()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietBeforeAssignment));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.NeverAssigned, watch.Check(QuietBeforeAssignment));
    }

    [Fact]
    public void Check_HoldingNothingAfterARevoke_AlsoWaitsTheFirstAssignmentWait_ThenIsIdle()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        var revoked = QuietHolding with { HoldsPartitions = false };

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(IdleVerdict.Going, watch.Check(revoked));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.Idle, watch.Check(revoked));
    }

    [Fact]
    public void Check_OutstandingWork_CountsTheIdleTimeFromItsEnd()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding with { Quiet = false }));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.Idle, watch.Check(QuietHolding));
    }

    [Fact]
    public void Check_ARecordOrAPartitionReady_StartsTheCountAgain()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(4));
        watch.RecordArrived();
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding));
        watch.Ready();
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietHolding));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.Idle, watch.Check(QuietHolding));
    }

    [Fact]
    public void Check_RecordsHeldBackOnlyByTheRegistry_PastThePatience_SaysRegistryUnreachable()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        var waiting = QuietHolding with { Quiet = false, OnlyRegistryWaits = true };

        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(IdleVerdict.Going, watch.Check(waiting));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.RegistryUnreachable, watch.Check(waiting));
        Assert.Equal(TimeSpan.FromSeconds(20), watch.PatienceLimit);
    }

    [Fact]
    public void Check_PartitionsWaitingForARestoreThatFails_WithNoProgressPastThePatience_SaysRestoresFailing_AndProgressPutsItOff()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        var waiting = QuietHolding with { Quiet = false, RestoresFailing = true };

        _time.Advance(TimeSpan.FromSeconds(19));
        watch.Progressed();
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(IdleVerdict.Going, watch.Check(waiting));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.RestoresFailing, watch.Check(waiting));
        Assert.Equal(IdleVerdict.Going, watch.Check(waiting with { RestoresFailing = false }));
    }

    [Fact]
    public void Check_ARecordFetchedAgainAfterARegistryWait_IsNoProgress_ButOneWithAnOutcomeIs()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        var waiting = QuietHolding with { Quiet = false, OnlyRegistryWaits = true };

        for (var i = 0; i < 19; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            watch.RecordArrived();
        }

        watch.Progressed();
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(IdleVerdict.Going, watch.Check(waiting));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(IdleVerdict.RegistryUnreachable, watch.Check(waiting));
    }

    [Fact]
    public void UntilIdle_IsTheIdleTimeLeft_FromTheLastRecordReadinessOrBusyTurn()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        Assert.Null(new IdleWatch(_time, idle: null, TimeSpan.FromSeconds(60)).UntilIdle(_time.GetTimestamp(), holdsPartitions: true));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(3), watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: true));

        watch.RecordArrived();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(4), watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: true));

        // Busy (a checkpoint in flight): the count starts from the end of it.
        _time.Advance(TimeSpan.FromSeconds(1));
        watch.Check(QuietHolding with { Quiet = false });
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(TimeSpan.FromSeconds(4.5), watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: true));

        // Up: the poll waits no more, and the check that follows finds the run idle.
        _time.Advance(TimeSpan.FromSeconds(4.5));
        Assert.Equal(TimeSpan.Zero, watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: true));
        Assert.Equal(IdleVerdict.Idle, watch.Check(QuietHolding));
    }

    [Fact]
    public void UntilIdle_HoldingNoPartition_CountsToTheFirstAssignmentWait_AsTheCheckDoes()
    {
        var watch = new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(10));

        // Past the idle time, but not idle without a partition: the poll is not told to stop waiting.
        Assert.Equal(TimeSpan.FromSeconds(50), watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: false));
        Assert.Equal(IdleVerdict.Going, watch.Check(QuietBeforeAssignment));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(TimeSpan.Zero, watch.UntilIdle(_time.GetTimestamp(), holdsPartitions: false));
        Assert.Equal(IdleVerdict.NeverAssigned, watch.Check(QuietBeforeAssignment));
    }

    [Fact]
    public void PatienceLimit_IsTheLongerOfTheIdleTimeAndTheFirstAssignmentWait()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), new IdleWatch(_time, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60)).PatienceLimit);
        Assert.Equal(TimeSpan.FromSeconds(90), new IdleWatch(_time, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(60)).PatienceLimit);
    }
}
