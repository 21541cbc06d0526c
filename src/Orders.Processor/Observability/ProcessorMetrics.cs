using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Orders.Contracts;
using Orders.Processor.Aggregates;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;

namespace Orders.Processor.Observability;

/// <summary>
/// The processor's instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>. Names follow
/// OpenTelemetry's messaging conventions where they apply (<c>messaging.*</c>); the domain's own
/// figures live under <c>orders.*</c>.
/// <para>
/// Every count is an observable instrument over <see cref="ProcessorCounters"/>, and every state
/// figure one over <see cref="ProcessorStatus.View"/>: read when a reader collects, never counted
/// twice, so the summary, the live views, <c>/metrics</c> and the dashboard cannot disagree.
/// </para>
/// <para>
/// The two latency histograms are measured per record, so they are kept here, not in the SDK:
/// <see cref="LatencyHistogram"/>s with their labels fixed once, recorded on the loop's thread with
/// no lookup and no allocation, and written into <c>/metrics</c> beside the SDK's families by
/// <see cref="WriteLatencies"/>. Through OpenTelemetry's SDK each of the two recordings per record
/// looked its four labels up, and a cold drain of a backlog spent up to a third of its speed on it
/// (docs/BENCHMARKS.md). Nothing is measured, not even the clock read, until
/// <see cref="MeasureLatencies"/> says a scrape endpoint will read them.
/// </para>
/// </summary>
public sealed partial class ProcessorMetrics
{
    public const string MeterName = "Orders.Processor";

    /// <summary>Products with a series of their own, the busiest first; the rest are summed under <see cref="OtherProducts"/>.</summary>
    public const int MaxProductSeries = 50;

    public const string OtherProducts = "(other)";

    /// <summary>Currencies with series of their own, the busiest first (they come from producers: validated as three letters, but many).</summary>
    public const int MaxCurrencySeries = 50;

    // Processing takes microseconds; OpenTelemetry's default buckets (0 to 10,000) suit milliseconds.
    private static readonly IReadOnlyList<double> ProcessBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly IReadOnlyList<double> EndToEndBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    private static readonly string[] ErrorTypes = ["poison", "invalid", "registry-unavailable", "transient"];

    private readonly TimeProvider _time;
    private readonly KeyValuePair<string, object?>[] _consumerTags;
    private readonly KeyValuePair<string, object?>[] _pollTags;
    private readonly ProcessorStatus _status;
    private readonly LatencyHistogram _processed = new(ProcessBuckets);
    // Indexed by FailureKind, as ErrorTypes names them.
    private readonly LatencyHistogram[] _failed = [.. ErrorTypes.Select(_ => new LatencyHistogram(ProcessBuckets))];
    private readonly LatencyHistogram _endToEnd = new(EndToEndBuckets);
    private readonly KeyValuePair<string, string>[] _processLabels;
    private readonly KeyValuePair<string, string>[] _endToEndLabels;
    private volatile bool _measuring;
    // WallClockAt's anchor: the loop's thread only.
    private long? _anchorTimestamp;
    private DateTimeOffset _anchorUtc;
    // Collections run one at a time (the SDK serialises them); the cache only saves recomputing per instrument.
    private ProductSeries? _products;

    public ProcessorMetrics(IMeterFactory meterFactory, ProcessorOptions options, ProcessorStatus status, TimeProvider time)
    {
        _time = time;
        _status = status;
        var meter = meterFactory.Create(MeterName);
        _consumerTags =
        [
            new("messaging.system", "kafka"),
            new("messaging.destination.name", options.Topic),
            new("messaging.consumer.group.name", options.GroupId),
        ];
        _pollTags = [.. _consumerTags, new("messaging.operation.name", "poll")];
        // As OpenTelemetry's Prometheus exporter labels the meter's other series: its scope, then the tags by name.
        KeyValuePair<string, string>[] labels =
        [
            new("otel_scope_name", MeterName),
            new("messaging_consumer_group_name", options.GroupId),
            new("messaging_destination_name", options.Topic),
        ];
        _processLabels = [.. labels, new("messaging_operation_name", "process"), new("messaging_system", "kafka")];
        _endToEndLabels = [.. labels, new("messaging_system", "kafka")];

        meter.CreateObservableCounter(
            "messaging.client.consumed.messages",
            () => Count(c => c.Processed + c.Retried + c.RegistryWaits + c.DeadLetteredByReason.Values.Sum() + c.Honoured, _pollTags),
            "{message}",
            "Deliveries of records to the processor that reached an outcome (processed, retried, waited for the registry, dead-lettered, honoured).");
        meter.CreateObservableCounter("orders.processed", () => Count(c => c.Processed, _consumerTags), "{order}", "Orders processed into the averages.");
        meter.CreateObservableCounter("orders.retries", () => Count(c => c.Retried, _consumerTags), "{retry}", "Transient failures retried with backoff.");
        meter.CreateObservableCounter("orders.registry.waits", () => Count(c => c.RegistryWaits, _consumerTags), "{wait}", "Times a partition paused because the Schema Registry could not be reached.");
        meter.CreateObservableCounter("orders.dead_letters", DeadLetters, "{message}", "Dead letters written and acknowledged, by orders.dead_letter.reason.");
        meter.CreateObservableCounter("orders.dead_letters.honoured", () => Count(c => c.Honoured, _consumerTags), "{message}", "Records dead-lettered before a restart, recognised and not decided again.");
        meter.CreateObservableCounter("orders.dead_letters.write_failures", () => Count(c => c.DeadLetterWriteFailures, _consumerTags), "{failure}", "Dead-letter writes that failed (and were retried).");
        meter.CreateObservableCounter("orders.skipped_by_retention", () => Count(c => c.SkippedByRetention, _consumerTags), "{message}", "Records deleted by retention before they were read: missing from the averages.");
        meter.CreateObservableCounter("orders.checkpoints.written", () => Count(c => c.CheckpointsWritten, _consumerTags), "{checkpoint}", "Partition checkpoints written and acknowledged.");
        meter.CreateObservableCounter("orders.checkpoints.restored", () => Count(c => c.CheckpointsRestored, _consumerTags), "{checkpoint}", "Partition checkpoints restored on assignment.");
        meter.CreateObservableCounter("orders.checkpoints.failed", () => Count(c => c.CheckpointFailures, _consumerTags), "{checkpoint}", "Partition checkpoints that failed to be written.");

        // Money per currency only: a mean over prices of different currencies means nothing.
        meter.CreateObservableGauge("orders.average.price", () => PerCurrency(m => m.Price.Mean), description: "Mean unit price of the orders in the state held, per orders.currency (the running average).");
        meter.CreateObservableGauge("orders.average.orders", () => PerCurrency(m => m.Count), "{order}", "Orders in the running averages of the state held, per orders.currency.");
        meter.CreateObservableGauge("orders.average.sum_of_prices", () => PerCurrency(m => (double)m.Price.Sum), description: "Sum of the unit prices, per orders.currency; sum over instances and divide by orders.average.orders for a global mean.");
        meter.CreateObservableGauge("orders.average.order_value", () => PerCurrency(m => m.Value.Mean), description: "Mean order value (price x quantity), per orders.currency.");
        meter.CreateObservableGauge("orders.average.sum_of_order_values", () => PerCurrency(m => (double)m.Value.Sum), description: "Sum of the order values (price x quantity), per orders.currency.");
        AddUnsplitGauges(meter);
        meter.CreateObservableGauge("orders.product.average.price", () => Products(s => s.Price.Mean), description: $"Mean unit price per orders.currency and orders.product (the {MaxProductSeries - 1} busiest; the rest of each currency as \"{OtherProducts}\").");
        meter.CreateObservableGauge("orders.product.average.order_value", () => Products(s => s.Value.Mean), description: "Mean order value per orders.currency and orders.product.");
        meter.CreateObservableGauge("orders.product.average.orders", () => Products(s => s.Count), "{order}", "Orders per orders.currency and orders.product in the running averages.");
        meter.CreateObservableGauge("orders.partitions.assigned", () => State(v => (double)v.Partitions.Count), "{partition}", "Partitions held with their state restored.");
        meter.CreateObservableGauge("orders.partitions.restoring", () => State(v => (double)v.Restoring), "{partition}", "Partitions assigned whose state is still being restored.");
        meter.CreateObservableGauge("orders.consumer.lag", Lag, "{message}", "Records of a held partition not yet in its state: its end offset (librdkafka statistics) minus the next offset to process.");
        meter.CreateObservableGauge("orders.handler.in_flight", () => State(v => v.Load.InFlight), "{call}", "Handler calls under way (at most Processor:MaxInFlight).");
        meter.CreateObservableGauge("orders.handler.waiting_for_key", () => State(v => v.Load.WaitingForKey), "{order}", "Orders waiting for an earlier order of their key to finish.");
        meter.CreateObservableGauge("orders.handler.waiting_for_backoff", () => State(v => v.Load.WaitingForBackoff), "{order}", "Orders waiting out a retry's backoff.");
        meter.CreateObservableGauge("orders.handler.queued", () => State(v => v.Load.Queued), "{order}", "Orders ready to be handled once a handler call ends (the in-flight limit reached).");
    }

    /// <summary>From now on the latency histograms are measured: a scrape endpoint will read them (<see cref="WriteLatencies"/>).</summary>
    public void MeasureLatencies() => _measuring = true;

    /// <summary>Whether latencies are measured (<see cref="MeasureLatencies"/> was called): each record's processing time starts at its arrival.</summary>
    public bool Measuring => _measuring;

    /// <returns>The timestamp to give <see cref="Processed"/>; null while nothing is measured.</returns>
    public long? StartProcessing() => _measuring ? _time.GetTimestamp() : null;

    /// <param name="now">A timestamp of the injected clock read just now (the loop's, as the record arrived).</param>
    /// <returns><paramref name="now"/> to give <see cref="Processed"/>; null while nothing is measured.</returns>
    public long? StartProcessing(long now) => _measuring ? now : null;

    /// <summary>Measures how long one record took, and how it failed, if it did.</summary>
    /// <returns>When it ended (a timestamp of the injected clock), for <see cref="Completed"/>; null while nothing is measured.</returns>
    public long? Processed(long? startedAt, FailureKind? failure = null)
    {
        if (startedAt is not { } started)
        {
            return null;
        }

        var ended = _time.GetTimestamp();
        var histogram = failure is { } kind ? _failed[(int)kind] : _processed;
        histogram.Record(_time.GetElapsedTime(started, ended).TotalSeconds);
        return ended;
    }

    /// <summary>Measures the order's end-to-end latency as it enters the averages.</summary>
    /// <param name="endedAt">When its processing ended (<see cref="Processed"/>'s timestamp), if that was measured; else now.</param>
    public void Completed(Order order, long? endedAt = null)
    {
        if (!_measuring || order.CreatedAt <= DateTime.UnixEpoch)
        {
            // The earliest schema has no createdAt (it reads as the epoch): nothing to measure from.
            return;
        }

        var ended = endedAt is { } at ? WallClockAt(at) : _time.GetUtcNow();
        var created = DateTime.SpecifyKind(order.CreatedAt, DateTimeKind.Utc).Ticks;
        // A producer's clock ahead of ours would make it negative; a histogram of durations has no place for that.
        _endToEnd.Record(Math.Max(0, (ended.UtcTicks - created) / (double)TimeSpan.TicksPerSecond));
    }

    /// <summary>
    /// The wall-clock time of a timestamp of the injected clock: an anchor (the two clocks read
    /// together) plus the monotonic time between them. The anchor is read again once the timestamps
    /// have moved a second past it, so a record's latency reads no clock of its own and a wall clock
    /// that is set (NTP) shows within a second. The loop's thread is the only caller.
    /// </summary>
    private DateTimeOffset WallClockAt(long timestamp)
    {
        if (_anchorTimestamp is not { } anchor || timestamp - anchor > _time.TimestampFrequency)
        {
            (_anchorUtc, _anchorTimestamp) = (_time.GetUtcNow(), _time.GetTimestamp());
            anchor = _anchorTimestamp.Value;
        }

        return _anchorUtc + _time.GetElapsedTime(anchor, timestamp);
    }

    /// <summary>The latency histograms as they stand: the processing time of the records that succeeded, of those that failed by error.type, and the end-to-end latency.</summary>
    public (HistogramSnapshot Processed, IReadOnlyDictionary<string, HistogramSnapshot> Failed, HistogramSnapshot EndToEnd) ReadLatencies() => (
        _processed.Read(),
        ErrorTypes.Select((type, i) => (type, snapshot: _failed[i].Read())).Where(f => f.snapshot.Count > 0).ToDictionary(f => f.type, f => f.snapshot, StringComparer.Ordinal),
        _endToEnd.Read());

    /// <summary>
    /// Writes <c>messaging_process_duration_seconds</c> and <c>orders_end_to_end_duration_seconds</c>
    /// as a Prometheus scrape shows them (<see cref="HistogramExposition"/>): a series for the records
    /// that succeeded, one per error.type that has failed, and the end-to-end latency.
    /// </summary>
    public void WriteLatencies(StringBuilder text, bool openMetrics)
    {
        var (processed, failed, endToEnd) = ReadLatencies();
        HistogramExposition.Write(
            text, openMetrics, "messaging_process_duration_seconds", "seconds",
            "Time to decode, validate, handle and aggregate one record; error.type names the failure class when it failed.",
            [
                new HistogramSeries(_processLabels, processed),
                .. failed.Select(f => new HistogramSeries([_processLabels[0], new("error_type", f.Key), .. _processLabels[1..]], f.Value)),
            ]);
        HistogramExposition.Write(
            text, openMetrics, "orders_end_to_end_duration_seconds", "seconds",
            "From the order's createdAt to its entering the averages (orders without createdAt are not measured).",
            [new HistogramSeries(_endToEndLabels, endToEnd)]);
    }

    private IEnumerable<Measurement<long>> Count(Func<ProcessorCounters, long> read, KeyValuePair<string, object?>[] tags)
    {
        return [new Measurement<long>(read(_status.Counters), tags)];
    }

    private IEnumerable<Measurement<long>> DeadLetters()
    {
        return _status.Counters.DeadLetteredByReason
            .Select(r => new Measurement<long>(r.Value, [.. _consumerTags, new("orders.dead_letter.reason", r.Key)]))
            .ToList();
    }

    private IEnumerable<Measurement<double>> State(Func<ProcessorView, double?> read) =>
        read(_status.View) is { } value ? [new Measurement<double>(value, _consumerTags)] : [];

    private IEnumerable<Measurement<double>> PerCurrency(Func<OrderMeasures, double?> read)
    {
        var measurements = new List<Measurement<double>>();
        foreach (var (currency, data) in BusiestCurrencies(_status.View.Aggregates.Currencies))
        {
            if (read(data.Overall) is { } value)
            {
                measurements.Add(new Measurement<double>(value, [.. _consumerTags, new("orders.currency", currency)]));
            }
        }

        return measurements;
    }

    /// <summary>What checkpoints from before per-currency aggregates counted: prices of currencies never recorded, a bucket of its own, never a currency's series.</summary>
    private void AddUnsplitGauges(Meter meter)
    {
        meter.CreateObservableGauge("orders.unsplit.orders", () => Unsplit(p => p.Count), "{order}", $"Orders restored from checkpoints written before per-currency aggregates (\"{AggregateData.UnsplitName}\"): their currencies are unknown, so they are in no currency's series.");
        meter.CreateObservableGauge("orders.unsplit.sum_of_prices", () => Unsplit(p => (double)p.Sum), description: "Sum of the unit prices of orders.unsplit.orders (currencies mixed: not an amount of any one currency).");
        meter.CreateObservableGauge("orders.unsplit.average.price", () => Unsplit(p => p.Mean), description: "Mean unit price of orders.unsplit.orders, as the processor before per-currency aggregates showed it (currencies mixed).");
    }

    private IEnumerable<Measurement<double>> Unsplit(Func<PriceStatistics, double?> read) =>
        _status.View.Aggregates.Unsplit is { } unsplit && read(unsplit.Overall.Price) is { } value ? [new Measurement<double>(value, _consumerTags)] : [];

    private IEnumerable<Measurement<double>> Products(Func<OrderMeasures, double?> read)
    {
        var products = ProductSeries.Of(_status.View.Aggregates, ref _products);
        var measurements = new List<Measurement<double>>(products.Series.Count);
        foreach (var (currency, product, stats) in products.Series)
        {
            if (read(stats) is { } value)
            {
                measurements.Add(new Measurement<double>(value, [.. _consumerTags, new("orders.currency", currency), new("orders.product", product)]));
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<long>> Lag()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var (partition, state) in _status.View.Partitions)
        {
            if (_status.Statistics.LagOf(partition, state.NextOffset) is { } lag)
            {
                measurements.Add(new Measurement<long>(
                    lag, [.. _consumerTags, new("messaging.destination.partition.id", partition.ToString(CultureInfo.InvariantCulture))]));
            }
        }

        return measurements;
    }
}
