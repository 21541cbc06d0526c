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
    public void Averages_BeforeAnyOrder_HaveNoSeries()
    {
        using var mean = Collect<double>("orders.average.price");
        using var orders = Collect<double>("orders.average.orders");

        mean.RecordObservableInstruments();
        orders.RecordObservableInstruments();

        Assert.Empty(mean.GetMeasurementSnapshot());
        Assert.Empty(orders.GetMeasurementSnapshot());
    }

    [Fact]
    public void Averages_AreOneSeriesPerCurrency_NeverAcrossThem()
    {
        var aggregate = new PartitionAggregate(60);
        aggregate.Add("EUR", "mug", 10, 2, 0);
        aggregate.Add("EUR", "mug", 20, 1, 0);
        aggregate.Add("JPY", "mug", 1500, 1, 0);
        _processor.Publish(ProcessorView.Empty(_processor.Counters) with { Aggregates = aggregate.ToData() });
        using var mean = Collect<double>("orders.average.price");
        using var value = Collect<double>("orders.average.order_value");

        mean.RecordObservableInstruments();
        value.RecordObservableInstruments();

        var means = mean.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["orders.currency"]!, m => m.Value);
        Assert.Equal(new Dictionary<string, double> { ["EUR"] = 15, ["JPY"] = 1500 }, means);
        Assert.Equal(20, value.GetMeasurementSnapshot().Single(m => (string)m.Tags["orders.currency"]! == "EUR").Value);
    }

    [Fact]
    public void UnsplitOrders_FromOldCheckpoints_AreSeriesOfTheirOwn_InNoCurrencysSeries()
    {
        var aggregate = new PartitionAggregate(60);
        aggregate.Add("EUR", "mug", 10, 2, 0);
        var unsplit = new CurrencyData(
            new OrderMeasures(new PriceStatistics(4, 100m, 10m, 40m), PriceStatistics.Empty),
            new Dictionary<string, OrderMeasures>(StringComparer.Ordinal),
            new Dictionary<long, OrderMeasures>());
        _processor.Publish(ProcessorView.Empty(_processor.Counters) with { Aggregates = aggregate.ToData() with { Unsplit = unsplit } });
        using var orders = Collect<double>("orders.unsplit.orders");
        using var sum = Collect<double>("orders.unsplit.sum_of_prices");
        using var mean = Collect<double>("orders.unsplit.average.price");
        using var perCurrency = Collect<double>("orders.average.orders");

        foreach (var collector in new[] { orders, sum, mean, perCurrency })
        {
            collector.RecordObservableInstruments();
        }

        Assert.Equal(4, orders.LastMeasurement!.Value);
        Assert.Equal(100, sum.LastMeasurement!.Value);
        Assert.Equal(25, mean.LastMeasurement!.Value);
        Assert.False(mean.LastMeasurement.Tags.ContainsKey("orders.currency"));
        Assert.Equal(new Dictionary<string, double> { ["EUR"] = 1 }, perCurrency.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["orders.currency"]!, m => m.Value));
    }

    [Fact]
    public void UnsplitOrders_NoneHeld_NoSeries()
    {
        using var orders = Collect<double>("orders.unsplit.orders");

        orders.RecordObservableInstruments();

        Assert.Empty(orders.GetMeasurementSnapshot());
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
        _metrics.Flush();

        var measurements = duration.GetMeasurementSnapshot();
        Assert.Equal(0.003, measurements[0].Value, 9);
        Assert.False(measurements[0].Tags.ContainsKey("error.type"));
        Assert.Equal("process", measurements[0].Tags["messaging.operation.name"]);
        Assert.Equal(0.001, measurements[1].Value, 9);
        Assert.Equal("registry-unavailable", measurements[1].Tags["error.type"]);
    }

    [Fact]
    public void Histograms_ACollectionRecordsWhatTheLoopMeasuredBeforeIt()
    {
        using var duration = Collect<double>("messaging.process.duration");
        using var endToEnd = Collect<double>("orders.end_to_end.duration");
        using var processed = Collect<long>("orders.processed");
        for (var i = 0; i < 3; i++)
        {
            var started = _metrics.StartProcessing();
            _time.Advance(TimeSpan.FromMilliseconds(2));
            _metrics.Processed(started);
            _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-1) });
        }

        // Measured on the loop's thread, not yet recorded: the relay holds them.
        Assert.Empty(duration.GetMeasurementSnapshot());
        processed.RecordObservableInstruments();

        Assert.Equal([0.002, 0.002, 0.002], duration.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 9)));
        Assert.Equal([1.0, 1.0, 1.0], endToEnd.GetMeasurementSnapshot().Select(m => m.Value));
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
        _metrics.Flush();

        Assert.Equal(1.5, endToEnd.LastMeasurement!.Value, 9);
    }

    [Fact]
    public void EndToEnd_EndsWhenTheRecordsProcessingEnded_NotWhenTheMeasurementIsRecorded()
    {
        using var endToEnd = Collect<double>("orders.end_to_end.duration");
        using var duration = Collect<double>("messaging.process.duration");
        var order = new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-2) };

        var started = _metrics.StartProcessing(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var ended = _metrics.Processed(started);
        _metrics.Completed(order, ended);
        // The pool, or the next collection, records them later.
        _time.Advance(TimeSpan.FromSeconds(10));
        _metrics.Flush();

        Assert.Equal(2.25, endToEnd.LastMeasurement!.Value, 9);
        Assert.Equal(0.25, duration.LastMeasurement!.Value, 9);
    }

    [Fact]
    public void EndToEnd_OrderWithoutCreatedAt_IsNotMeasured_AndAClockAheadCountsAsZero()
    {
        using var endToEnd = Collect<double>("orders.end_to_end.duration");

        // The earliest schema has no createdAt: it reads as the epoch.
        _metrics.Completed(new Order { CreatedAt = DateTime.UnixEpoch });
        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(2) });
        _metrics.Flush();

        Assert.Equal(0, Assert.Single(endToEnd.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public void CapProducts_ManyProducts_KeepsTheBusiest_AndSumsTheRestOfEachCurrencyAsOther()
    {
        var measures = (int n) => Enumerable.Range(0, n).Aggregate(OrderMeasures.Empty, (s, _) => s.Add(10m, 1));
        var currencies = new Dictionary<string, CurrencyData>
        {
            ["EUR"] = CurrencyData.Empty with { Products = Enumerable.Range(0, 60).ToDictionary(i => $"p{i:D2}", i => measures(i + 1)) },
            ["USD"] = CurrencyData.Empty with { Products = Enumerable.Range(0, 20).ToDictionary(i => $"u{i:D2}", i => measures(1)) },
        };

        var series = ProcessorMetrics.CapProducts(currencies);

        Assert.Equal(("EUR", "p59"), (series[0].Currency, series[0].Product));
        Assert.Equal(currencies.Values.Sum(c => c.Products.Values.Sum(p => p.Count)), series.Sum(s => s.Stats.Count));
        // The rest is summed within its currency, never across currencies.
        Assert.Equal(2, series.Count(s => s.Product == ProcessorMetrics.OtherProducts));
        Assert.Equal(ProcessorMetrics.MaxProductSeries - 1, series.Count(s => s.Product != ProcessorMetrics.OtherProducts));
    }

    [Fact]
    public void CapProducts_FewProducts_AllOfThem()
    {
        var currencies = new Dictionary<string, CurrencyData>
        {
            ["EUR"] = CurrencyData.Empty with { Products = new Dictionary<string, OrderMeasures> { ["mug"] = OrderMeasures.Empty.Add(3m, 1), ["kettle"] = OrderMeasures.Empty.Add(30m, 1) } },
        };

        Assert.Equal(["kettle", "mug"], ProcessorMetrics.CapProducts(currencies).Select(s => s.Product).Order());
    }
}
