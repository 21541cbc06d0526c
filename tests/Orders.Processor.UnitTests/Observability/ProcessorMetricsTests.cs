using System.Diagnostics.Metrics;
using System.Text;
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
    public void ProcessDuration_IsTheInjectedClocksElapsedTime_InASeriesPerFailureClass()
    {
        _metrics.MeasureLatencies();

        var started = _metrics.StartProcessing();
        _time.Advance(TimeSpan.FromMilliseconds(3));
        _metrics.Processed(started);
        var failedAt = _metrics.StartProcessing();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _metrics.Processed(failedAt, FailureKind.RegistryUnavailable);

        var (processed, failed, _) = _metrics.ReadLatencies();
        Assert.Equal(1, processed.Count);
        Assert.Equal(0.003, processed.Sum, 9);
        // 3 ms lies in the bucket up to 5 ms, not in the one up to 2.5 ms.
        Assert.Equal((0, 1), (processed.CountAtMost(0.0025), processed.CountAtMost(0.005)));
        var registry = Assert.Single(failed);
        Assert.Equal("registry-unavailable", registry.Key);
        Assert.Equal((1, 0.001), (registry.Value.Count, Math.Round(registry.Value.Sum, 9)));
    }

    [Fact]
    public void WriteLatencies_LabelsEachSeriesAsTheExporterLabelsTheMetersOthers()
    {
        _metrics.MeasureLatencies();
        _metrics.Processed(_metrics.StartProcessing(), FailureKind.Poison);
        var text = new StringBuilder();

        _metrics.WriteLatencies(text, openMetrics: false);

        var lines = text.ToString().Split('\n');
        Assert.Contains(
            "messaging_process_duration_seconds_count{otel_scope_name=\"Orders.Processor\",messaging_consumer_group_name=\"g\",messaging_destination_name=\"orders\",messaging_operation_name=\"process\",messaging_system=\"kafka\"} 0",
            lines);
        Assert.Contains(
            "messaging_process_duration_seconds_count{otel_scope_name=\"Orders.Processor\",error_type=\"poison\",messaging_consumer_group_name=\"g\",messaging_destination_name=\"orders\",messaging_operation_name=\"process\",messaging_system=\"kafka\"} 1",
            lines);
        Assert.Contains(
            "orders_end_to_end_duration_seconds_count{otel_scope_name=\"Orders.Processor\",messaging_consumer_group_name=\"g\",messaging_destination_name=\"orders\",messaging_system=\"kafka\"} 0",
            lines);
    }

    [Fact]
    public void StartProcessing_UntilLatenciesAreMeasured_ReadsNoClockAndRecordsNothing()
    {
        var started = _metrics.StartProcessing();
        _metrics.Processed(started);
        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-1) });

        Assert.Null(started);
        var (processed, failed, endToEnd) = _metrics.ReadLatencies();
        Assert.Equal((0, 0, 0), (processed.Count, failed.Count, endToEnd.Count));
    }

    [Fact]
    public void EndToEnd_IsNowMinusCreatedAt()
    {
        _metrics.MeasureLatencies();

        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-1.5) });

        var endToEnd = _metrics.ReadLatencies().EndToEnd;
        Assert.Equal((1, 1.5), (endToEnd.Count, endToEnd.Sum));
    }

    [Fact]
    public void EndToEnd_EndsWhenTheRecordsProcessingEnded_NotWhenItIsCounted()
    {
        _metrics.MeasureLatencies();
        var order = new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(-2) };

        var started = _metrics.StartProcessing(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var ended = _metrics.Processed(started);
        // Counted later than it ended (a dispatched order, say): the latency still ends where its processing did.
        _time.Advance(TimeSpan.FromSeconds(10));
        _metrics.Completed(order, ended);

        var (processed, _, endToEnd) = _metrics.ReadLatencies();
        Assert.Equal(2.25, endToEnd.Sum, 9);
        Assert.Equal(0.25, processed.Sum, 9);
    }

    [Fact]
    public void EndToEnd_AWallClockSetByNtp_ShowsOnceTheTimestampsMovedASecond()
    {
        var clock = new SettableWallClock(_time);
        var metrics = new ProcessorMetrics(Factory, new ProcessorOptions { Topic = "orders", GroupId = "g" }, _processor, clock);
        metrics.MeasureLatencies();
        Order CreatedSecondsAgo(double seconds) => new() { CreatedAt = clock.GetUtcNow().UtcDateTime.AddSeconds(-seconds) };

        metrics.Completed(CreatedSecondsAgo(1), metrics.Processed(metrics.StartProcessing()));
        // The wall clock is set 10 s back; the monotonic one goes on. Within the second, the anchor read before holds.
        clock.Offset = TimeSpan.FromSeconds(-10);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        metrics.Completed(CreatedSecondsAgo(1), metrics.Processed(metrics.StartProcessing()));
        _time.Advance(TimeSpan.FromMilliseconds(600));
        metrics.Completed(CreatedSecondsAgo(1), metrics.Processed(metrics.StartProcessing()));

        // 1 s, then 11 s (the old anchor against the new wall clock), then 1 s again (anchored anew).
        var endToEnd = metrics.ReadLatencies().EndToEnd;
        Assert.Equal((3, 13.0), (endToEnd.Count, Math.Round(endToEnd.Sum, 9)));
        Assert.Equal(2, endToEnd.CountAtMost(1));
    }

    /// <summary>A wall clock that can be set apart from the monotonic one, as NTP sets a machine's.</summary>
    private sealed class SettableWallClock(TimeProvider inner) : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;
    }

    [Fact]
    public void EndToEnd_OrderWithoutCreatedAt_IsNotMeasured_AndAClockAheadCountsAsZero()
    {
        _metrics.MeasureLatencies();

        // The earliest schema has no createdAt: it reads as the epoch.
        _metrics.Completed(new Order { CreatedAt = DateTime.UnixEpoch });
        _metrics.Completed(new Order { CreatedAt = _time.GetUtcNow().UtcDateTime.AddSeconds(2) });

        var endToEnd = _metrics.ReadLatencies().EndToEnd;
        Assert.Equal((1, 0.0), (endToEnd.Count, endToEnd.Sum));
        Assert.Equal(1, endToEnd.CountAtMost(0.001));
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
    public void CapProducts_AProductNamedLikeTheRest_JoinsTheRest_SoNoTwoSeriesShareTheirLabels()
    {
        var measures = (int n) => Enumerable.Range(0, n).Aggregate(OrderMeasures.Empty, (s, _) => s.Add(1000m, 1));
        var products = Enumerable.Range(0, 60).ToDictionary(i => $"p{i:D2}", _ => measures(1));
        products[ProcessorMetrics.OtherProducts] = measures(20);
        var currencies = new Dictionary<string, CurrencyData> { ["SEK"] = CurrencyData.Empty with { Products = products } };

        var series = ProcessorMetrics.CapProducts(currencies);

        Assert.Equal(series.Count, series.Select(s => (s.Currency, s.Product)).Distinct().Count());
        var other = Assert.Single(series, s => s.Product == ProcessorMetrics.OtherProducts);
        Assert.Equal(80, series.Sum(s => s.Stats.Count));
        // Its 20 orders, and those of the products past the kept ones (it held one of their places).
        Assert.Equal(20 + (products.Count - (ProcessorMetrics.MaxProductSeries - 1)), other.Stats.Count);
    }

    [Fact]
    public void CapProducts_MoreCurrenciesThanSeries_CoversTheBusiestCurrencies_AsThePerCurrencySeriesDo()
    {
        var currencies = Enumerable.Range(0, ProcessorMetrics.MaxCurrencySeries + 1).ToDictionary(
            i => $"C{i:D2}",
            i =>
            {
                // C00, first by name, has the fewest orders.
                var measures = Enumerable.Range(0, i == 0 ? 1 : 2).Aggregate(OrderMeasures.Empty, (s, _) => s.Add(10m, 1));
                return CurrencyData.Empty with { Overall = measures, Products = new Dictionary<string, OrderMeasures> { ["mug"] = measures } };
            });

        var covered = ProcessorMetrics.CapProducts(currencies).Select(s => s.Currency).ToHashSet();

        Assert.DoesNotContain("C00", covered);
        Assert.Contains($"C{ProcessorMetrics.MaxCurrencySeries:D2}", covered);
        Assert.Equal(covered.Order(), ProcessorMetrics.BusiestCurrencies(currencies).Select(c => c.Key).Order());
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
