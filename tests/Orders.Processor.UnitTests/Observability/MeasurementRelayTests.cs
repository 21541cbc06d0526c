using System.Collections.Concurrent;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class MeasurementRelayTests
{
    private readonly ConcurrentQueue<(double Value, int Series, int Thread)> _recorded = new();

    private void Record((double Value, int Series) measurement) => _recorded.Enqueue((measurement.Value, measurement.Series, Environment.CurrentManagedThreadId));

    [Fact]
    public void FewerThanDrainAt_WaitUntilDrained_ThenEachIsRecordedOnce_InOrder()
    {
        var relay = new MeasurementRelay<(double, int)>(Record);

        relay.Write((0.5, 0));
        relay.Write((1.5, -1));
        relay.Write((2.5, 3));

        Assert.Empty(_recorded);
        Assert.Equal(3, relay.Pending);
        relay.Drain();
        relay.Drain();

        Assert.Equal([(0.5, 0), (1.5, -1), (2.5, 3)], _recorded.Select(r => (r.Value, r.Series)));
        Assert.Equal(0, relay.Pending);
    }

    [Fact]
    public void RingFull_TheWriterRecordsInline_AndNothingIsLostOrRecordedTwice()
    {
        var writer = Environment.CurrentManagedThreadId;
        using var poolMayRecord = new ManualResetEventSlim(false);
        var relay = new MeasurementRelay<(double, int)>(
            measurement =>
            {
                if (Environment.CurrentManagedThreadId != writer)
                {
                    // The pool's drain holds at its first measurement: the ring stays full.
                    poolMayRecord.Wait(TimeSpan.FromSeconds(30));
                }

                Record(measurement);
            },
            capacity: MeasurementRelay.DrainAt);

        for (var i = 0; i < MeasurementRelay.DrainAt + 10; i++)
        {
            relay.Write((i, 0));
        }

        // The ten that found the ring full were recorded at once, on the writer's thread.
        Assert.Equal(Enumerable.Range(MeasurementRelay.DrainAt, 10).Select(i => (double)i), _recorded.Select(r => r.Value));
        Assert.All(_recorded, r => Assert.Equal(writer, r.Thread));

        poolMayRecord.Set();
        relay.Drain();

        Assert.Equal(Enumerable.Range(0, MeasurementRelay.DrainAt + 10).Select(i => (double)i), _recorded.Select(r => r.Value).Order());
        Assert.Equal(0, relay.Pending);
    }

    [Fact]
    public void ManyMeasurements_ThePoolRecordsThemWithoutADrainCall_AndACollectionsDrainRecordsTheRest()
    {
        var writer = Environment.CurrentManagedThreadId;
        var relay = new MeasurementRelay<(double, int)>(Record);
        const int Written = 200_000;

        for (var i = 1; i <= Written; i++)
        {
            relay.Write((i, i % 2));
        }

        // Fewer than DrainAt wait for a collection; everything else the pool records on its own.
        Assert.True(SpinWait.SpinUntil(() => relay.Pending < MeasurementRelay.DrainAt, TimeSpan.FromSeconds(30)), $"{relay.Pending} still waiting");
        Assert.Contains(_recorded, r => r.Thread != writer);
        relay.Drain();

        Assert.Equal(Written, _recorded.Count);
        Assert.Equal((double)Written * (Written + 1) / 2, _recorded.Sum(r => r.Value));
        Assert.Equal(Written / 2, _recorded.Count(r => r.Series == 1));
    }

    [Fact]
    public void WrittenWhileThePoolDrains_DrainAtOrMore_ThePoolDrainsThemToo()
    {
        var writer = Environment.CurrentManagedThreadId;
        using var poolIsRecording = new ManualResetEventSlim(false);
        using var poolMayRecord = new ManualResetEventSlim(false);
        var relay = new MeasurementRelay<(double, int)>(measurement =>
        {
            if (Environment.CurrentManagedThreadId != writer)
            {
                poolIsRecording.Set();
                poolMayRecord.Wait(TimeSpan.FromSeconds(30));
            }

            Record(measurement);
        });

        for (var i = 0; i < MeasurementRelay.DrainAt; i++)
        {
            relay.Write((i, 0));
        }

        // The pool's drain has taken the first DrainAt and holds; the writer, finding it queued, asks for no other.
        Assert.True(poolIsRecording.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        for (var i = 0; i < MeasurementRelay.DrainAt + 5; i++)
        {
            relay.Write((i, 1));
        }

        poolMayRecord.Set();

        Assert.True(SpinWait.SpinUntil(() => relay.Pending == 0, TimeSpan.FromSeconds(30)), $"{relay.Pending} still waiting");
        Assert.Equal((2 * MeasurementRelay.DrainAt) + 5, _recorded.Count);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(512)]
    [InlineData(0)]
    public void Capacity_NotAPowerOfTwoOfAtLeastDrainAt_IsRefused(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MeasurementRelay<(double, int)>(Record, capacity));
    }
}
