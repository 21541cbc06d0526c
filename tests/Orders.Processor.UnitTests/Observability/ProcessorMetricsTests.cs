using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;
using Orders.Processor.Aggregates;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class ProcessorMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ProcessorMetrics _metrics;
    private readonly ProcessorStatus _processor;

    public ProcessorMetricsTests()
    {
        var options = new ProcessorOptions { Topic = "orders", GroupId = "g" };
        _processor = new ProcessorStatus(options.Topic, readCommitted: false);
        _metrics = new ProcessorMetrics(Factory, options, _processor, _time);
    }

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(Factory, ProcessorMetrics.MeterName, instrument);

    [Fact]
    public void Counts_AreReadFromTheProcessorsCounters()
    {
        using var processed = Collect<long>("orders.processed");
        using var retries = Collect<long>("orders.retries");
        _processor.Counters.ProcessedOne();
        _processor.Counters.ProcessedOne();
        _processor.Counters.RetriedOne();

        processed.RecordObservableInstruments();
        retries.RecordObservableInstruments();

        Assert.Equal(2, processed.LastMeasurement!.Value);
        Assert.Equal(1, retries.LastMeasurement!.Value);
        Assert.Equal("orders", processed.LastMeasurement.Tags["messaging.destination.name"]);
        Assert.Equal("g", processed.LastMeasurement.Tags["messaging.consumer.group.name"]);
    }

    [Fact]
    public void DeadLetters_OneSeriesPerReason()
    {
        using var deadLetters = Collect<long>("orders.dead_letters");
        _processor.Counters.DeadLettered(DeadLetterHeaders.ReasonInvalid);
        _processor.Counters.DeadLettered(DeadLetterHeaders.ReasonInvalid);
        _processor.Counters.DeadLettered(DeadLetterHeaders.ReasonPoison);

        deadLetters.RecordObservableInstruments();

        var byReason = deadLetters.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["orders.dead_letter.reason"]!, m => m.Value);
        Assert.Equal(new Dictionary<string, long> { ["poison"] = 1, ["invalid"] = 2, ["retries-exhausted"] = 0 }, byReason);
    }

    [Fact]
    public void ConsumedMessages_AreEveryDeliveryThatReachedAnOutcome()
    {
        using var consumed = Collect<long>("messaging.client.consumed.messages");
        _processor.Counters.ProcessedOne();
        _processor.Counters.RetriedOne();
        _processor.Counters.WaitedForRegistry();
        _processor.Counters.DeadLettered(DeadLetterHeaders.ReasonPoison);
        _processor.Counters.HonouredOne();

        consumed.RecordObservableInstruments();

        Assert.Equal(5, consumed.LastMeasurement!.Value);
        Assert.Equal("poll", consumed.LastMeasurement.Tags["messaging.operation.name"]);
    }

    [Fact]
    public void Averages_BeforeAnyOrder_HaveNoMean()
    {
        using var mean = Collect<double>("orders.average.price");
        using var orders = Collect<double>("orders.average.orders");

        mean.RecordObservableInstruments();
        orders.RecordObservableInstruments();

        Assert.Empty(mean.GetMeasurementSnapshot());
        Assert.Equal(0, orders.LastMeasurement!.Value);
    }

    [Fact]
    public void ProcessDuration_IsTheInjectedClocksElapsedTime_TaggedWithTheFailureClass()
    {
        using var duration = Collect<double>("messaging.process.duration");

        var started = _metrics.StartProcessing();
        _time.Advance(TimeSpan.FromMilliseconds(3));
        _metrics.Processed(started);
        var failedAt = _metrics.StartProcessing();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _metrics.Processed(failedAt, FailureKind.RegistryUnavailable);

        var measurements = duration.GetMeasurementSnapshot();
        Assert.Equal(0.003, measurements[0].Value, 9);
        Assert.False(measurements[0].Tags.ContainsKey("error.type"));
        Assert.Equal("process", measurements[0].Tags["messaging.operation.name"]);
        Assert.Equal(0.001, measurements[1].Value, 9);
        Assert.Equal("registry-unavailable", measurements[1].Tags["error.type"]);
    }

    [Fact]
    public void StartProcessing_NobodyListening_ReadsNoClockAndRecordsNothing()
    {
        var started = _metrics.StartProcessing();
        _metrics.Processed(started);

        Assert.Null(started);
    }

    [Fact]
    public void EndToEnd_IsNowMinusCreatedAt()
    {
        using var endToEnd = Collect<double>("orders.end_to_end.duration");

        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-1.5) });

        Assert.Equal(1.5, endToEnd.LastMeasurement!.Value, 9);
    }

    [Fact]
    public void EndToEnd_OrderWithoutCreatedAt_IsNotMeasured_AndAClockAheadCountsAsZero()
    {
        using var endToEnd = Collect<double>("orders.end_to_end.duration");

        // The earliest schema has no createdAt: it reads as the epoch.
        _metrics.Completed(new Order { CreatedAt = DateTime.UnixEpoch });
        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(2) });

        Assert.Equal(0, Assert.Single(endToEnd.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public void CapProducts_ManyProducts_KeepsTheBusiest_AndSumsTheRestAsOther()
    {
        var products = Enumerable.Range(0, 80).ToDictionary(
            i => $"p{i:D2}",
            i => Enumerable.Range(0, i + 1).Aggregate(PriceStatistics.Empty, (s, _) => s.Add(10)));

        var series = ProcessorMetrics.CapProducts(products);

        Assert.Equal(ProcessorMetrics.MaxProductSeries, series.Count);
        Assert.Equal("p79", series[0].Product);
        Assert.DoesNotContain(series, s => s.Product == "p30");
        var other = Assert.Single(series, s => s.Product == ProcessorMetrics.OtherProducts).Stats;
        Assert.Equal(products.Values.Sum(p => p.Count), series.Sum(s => s.Stats.Count));
        Assert.Equal(Enumerable.Range(1, 31).Sum(), other.Count);
    }

    [Fact]
    public void CapProducts_FewProducts_AllOfThem()
    {
        var products = new Dictionary<string, PriceStatistics> { ["mug"] = PriceStatistics.Empty.Add(3), ["kettle"] = PriceStatistics.Empty.Add(30) };

        Assert.Equal(["kettle", "mug"], ProcessorMetrics.CapProducts(products).Select(s => s.Product).Order());
    }
}
