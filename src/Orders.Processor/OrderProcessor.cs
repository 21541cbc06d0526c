using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Orders.Processor.Records;

namespace Orders.Processor;

/// <summary>The end of a run: what this processor did, and the state of the partitions it held at the end.</summary>
/// <param name="NotCheckpointed">Partitions held at the end whose final checkpoint could not be written: the next owner reprocesses them from their previous one.</param>
public sealed record ProcessorSummary(ProcessorView View, TimeSpan Elapsed, IReadOnlyList<int> NotCheckpointed)
{
    public ProcessorCounters Counters => View.Counters;

    public long DeadLetteredTotal => View.Counters.DeadLetteredByReason.Values.Sum();
}

/// <summary>A point-in-time view for summaries, live views and metrics.</summary>
/// <param name="Aggregates">The combined state of the partitions held (restored checkpoints included).</param>
/// <param name="Partitions">Per held partition: the offset its state covers up to, and its own totals.</param>
/// <param name="Restoring">Partitions assigned whose state is still being restored.</param>
public sealed record ProcessorView(
    ProcessorCounters Counters,
    AggregateData Aggregates,
    IReadOnlyDictionary<int, PartitionView> Partitions,
    int Restoring,
    bool EverAssigned)
{
    public static ProcessorView Empty(ProcessorCounters counters) =>
        new(counters, AggregateData.Empty, new Dictionary<int, PartitionView>(), 0, false);
}

public sealed record PartitionView(long NextOffset, long CheckpointedOffset, PriceStatistics Overall);

/// <summary>
/// The consume loop. It polls, hands each record to the <see cref="OrderPipeline"/>, applies the
/// <see cref="FailurePolicy"/> (pause, rewind and retry; wait for the registry; dead-letter), keeps
/// each partition's <see cref="PartitionState"/>, and checkpoints it (on an interval, on revoke, on
/// close) to the stats topic. On assignment a partition's newest checkpoint is restored and the
/// dead letters written for it since are read back, so that decisions taken before a crash are
/// honoured, not taken again; consumption resumes right after the checkpoint's offset. Group
/// offsets follow the checkpoints, for lag tools; they are not the truth.
/// </summary>
public sealed partial class OrderProcessor
{
    private static readonly TimeSpan MaxPollWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PumpInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan ViewInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConsumerConfig _consumerConfig;
    private readonly ProducerConfig _producerConfig;
    private readonly ProcessorOptions _options;
    private readonly OrderPipeline _pipeline;
    private readonly ISchemaRegistryClient _registry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RetrySchedule _retrySchedule;
    private readonly FailurePolicy _policy;
    private readonly PausedPartitions _paused;
    private readonly CheckpointSchedule _checkpointSchedule;
    private readonly ProcessorMetrics? _metrics;
    private readonly Dictionary<int, PartitionState> _owned = [];
    private readonly Dictionary<int, DateTimeOffset> _restoring = [];
    private readonly HashSet<TopicPartition> _pauseNow = [];
    private readonly HashSet<TopicPartition> _resumeNow = [];
    private volatile ProcessorView _view;
    private volatile bool _everAssigned;
    // When partitions were last assigned, or restored and resumed: --until-idle counts from there.
    private long _lastReadyAt;
    private bool _closing;
    private volatile bool _consumerAbandoned;
    private List<int> _notCheckpointedAtClose = [];

    // Set by RunAsync for the duration of a run; the rebalance handlers run inside Consume on the loop's thread.
    private Run? _run;

    public OrderProcessor(
        ConsumerConfig consumerConfig,
        ProducerConfig producerConfig,
        ProcessorOptions options,
        OrderDecoder decoder,
        IOrderHandler handler,
        ISchemaRegistryClient registry,
        TimeProvider time,
        ILogger<OrderProcessor> logger,
        ProcessorMetrics? metrics = null)
    {
        _options = options;
        _metrics = metrics;
        _pipeline = new OrderPipeline(decoder, handler, metrics);
        _registry = registry;
        _time = time;
        _logger = logger;
        _retrySchedule = new RetrySchedule(options.RetryBaseDelay, options.RetryMaxDelay, new Random(options.Seed));
        _policy = new FailurePolicy(_retrySchedule, options.MaxAttempts);
        _paused = new PausedPartitions(time, MaxPollWait);
        _checkpointSchedule = new CheckpointSchedule(time, options.CheckpointInterval, holdAfter: TimeSpan.FromSeconds(1));
        _view = ProcessorView.Empty(Counters);
        _consumerConfig = ProcessorClientConfig.Consumer(consumerConfig, options.GroupId);
        _producerConfig = ProcessorClientConfig.Producer(producerConfig);
        Statistics = new ConsumerStatistics(options.Topic, _consumerConfig.IsolationLevel != IsolationLevel.ReadUncommitted);
        metrics?.Observe(this);
    }

    public ProcessorCounters Counters { get; } = new();

    /// <summary>
    /// Whether the consumer left its group cleanly at the end of the last run. When its close does not
    /// return in time (librdkafka can wait on a group that is rebalancing as it closes) the run ends
    /// without it: every partition's state is checkpointed by then, and the group gives the
    /// partitions to others after its session timeout, exactly as after a crash.
    /// </summary>
    public bool ConsumerClosed { get; private set; } = true;

    /// <summary>Called on the loop's thread after each record was processed and counted (benchmarks measure latency with it).</summary>
    public Action<ConsumeResult<byte[]?, byte[]?>>? RecordProcessed { get; set; }

    /// <summary>The newest view, refreshed about twice a second while running.</summary>
    public ProcessorView View => _view;

    /// <summary>End offsets of the topic's partitions from librdkafka's statistics, for lag.</summary>
    public ConsumerStatistics Statistics { get; }

    /// <summary>The newest dead-letter decisions of this run, for the dashboard.</summary>
    public RecentDeadLetters RecentDeadLetters { get; } = new();

    /// <summary>Runs until cancelled (or idle for <see cref="ProcessorOptions.UntilIdle"/>); then checkpoints, commits and closes.</summary>
    /// <exception cref="TopicLayoutException">The topics cannot be used (no broker, partition counts that do not match).</exception>
    /// <exception cref="KafkaException">A fatal client error.</exception>
    /// <exception cref="DeadLetterWriteException">A dead letter can never be written.</exception>
    public async Task<ProcessorSummary> RunAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        // The admin client takes the producer's settings: it would warn about every consumer-only one.
        var layout = await TopicLayout.ResolveAsync(
            _producerConfig, _options.Topic, _options.DeadLetterTopic, _options.StatsTopic, _options.BrokerTimeout, _logger, _time, cancellationToken);
        LogLayout(_logger, layout.Topic, layout.Partitions, layout.DeadLetterTopic, layout.DeadLetterPartitions, layout.StatsTopic);

        Exception? fatal = null;
        // One route per client: repeated identical errors are logged once, then counted.
        using var producerLog = new KafkaLogRoute(_logger, _time);
        using var consumerLog = new KafkaLogRoute(_logger, _time);
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(_producerConfig)
            .LogTo(producerLog)
            .LogErrorsTo(producerLog, (_, e) =>
            {
                if (e.IsFatal)
                {
                    fatal ??= new KafkaException(e);
                }
            })
            .BuildChecked();
        var consumer = new ConsumerBuilder<byte[]?, byte[]?>(_consumerConfig)
            .LogTo(consumerLog)
            .LogErrorsTo(consumerLog, (_, e) =>
            {
                if (e.IsFatal)
                {
                    fatal ??= new KafkaException(e);
                }
            })
            .SetStatisticsHandler((_, json) => Statistics.Update(json))
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions.Select(p => p.TopicPartition).ToList()))
            .SetPartitionsLostHandler((c, partitions) => OnLost(c, partitions.Select(p => p.TopicPartition).ToList()))
            .BuildChecked();
        // Disposed unless its close was abandoned: destroying a consumer still closing would wait on it.
        ConsumerClosed = true;
        _consumerAbandoned = false;
        using var disposal = new ConsumerDisposal(consumer, this);
        using var reader = new PartitionRangeReader(_consumerConfig, _logger, _time);
        var serde = new CheckpointSerde(_registry);
        _run = new Run(
            layout,
            reader,
            producer,
            consumer,
            new CheckpointReader(reader, serde, _logger),
            new DeadLetterLedger(reader),
            new CheckpointWriter(producer, serde, layout.StatsTopic, _options.GroupId, _options.CheckpointChunkBytes, _time, Counters, _logger),
            new DeadLetterWriter(producer, layout.DeadLetterTopic, layout.DeadLetterPartitions, _retrySchedule, _options.DeadLetterTimeout, _time, Counters, _logger));
        _run.Checkpoints.Prepare();

        consumer.Subscribe(_options.Topic);
        LogSubscribed(_logger, _options.Topic, _options.GroupId);
        var lastStatusAt = _time.GetTimestamp();
        var lastViewAt = lastStatusAt;
        var nextPumpAt = lastStatusAt;
        var idleSince = started;
        var busySince = started;
        try
        {
            while (!cancellationToken.IsCancellationRequested && (fatal ??= _run.Fatal) is null)
            {
                var now = _time.GetTimestamp();
                if (now >= nextPumpAt)
                {
                    Pump();
                    nextPumpAt = now + (long)(PumpInterval.TotalSeconds * _time.TimestampFrequency);
                    if (_time.GetElapsedTime(lastViewAt) >= ViewInterval)
                    {
                        PublishView();
                        lastViewAt = _time.GetTimestamp();
                    }

                    if (_time.GetElapsedTime(lastStatusAt) >= _options.StatusInterval)
                    {
                        LogStatus(started);
                        lastStatusAt = _time.GetTimestamp();
                    }
                }

                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(PollWait());
                }
                catch (ConsumeException e)
                {
                    OnConsumeError(e);
                    continue;
                }

                if (result is null || result.IsPartitionEOF)
                {
                    if (_options.UntilIdle is { } idle)
                    {
                        // Idle counts from the last record, assignment, or outstanding work (a retry, a
                        // dead letter waiting for its broker, a partition held for its checkpoint): a
                        // partition resumed a moment ago has not had time to deliver yet.
                        if (!IsQuiet())
                        {
                            busySince = _time.GetTimestamp();
                        }
                        else if (IsIdle(idle, _time.GetElapsedTime(Math.Max(Math.Max(idleSince, _lastReadyAt), busySince))))
                        {
                            if (!_everAssigned)
                            {
                                fatal = new ProcessorGaveUpException(
                                    $"no partition of {_options.Topic} was assigned to group {_options.GroupId} within {Math.Max(idle.TotalSeconds, _options.FirstAssignmentWait.TotalSeconds):0} s " +
                                    "(more processors than partitions, or the group coordinator is unreachable)");
                                break;
                            }

                            LogIdle(_logger, idle.TotalSeconds);
                            break;
                        }

                        if (WaitingForRegistryTooLong(idle, _time.GetElapsedTime(idleSince)))
                        {
                            fatal = new ProcessorGaveUpException(
                                $"the Schema Registry could not be reached for {_time.GetElapsedTime(idleSince).TotalSeconds:0} s ({Counters.RegistryWaits} attempts); " +
                                "--until-idle gives up. The records wait in Kafka: nothing was lost, and the next run resumes from the checkpoints");
                            break;
                        }
                    }

                    continue;
                }

                idleSince = _time.GetTimestamp();
                // The record in hand is finished even if shutdown was requested meanwhile.
                await HandleAsync(result, cancellationToken);
            }
        }
        finally
        {
            Close();
            producerLog.Flush();
            consumerLog.Flush();
        }

        if (fatal is not null)
        {
            throw fatal;
        }

        LogStatus(started);
        return new ProcessorSummary(_view, _time.GetElapsedTime(started), _notCheckpointedAtClose);
    }

    private Run R => _run ?? throw new InvalidOperationException("The processor is not running.");

    /// <summary>
    /// Idle: quiet for <paramref name="idle"/> since the last record, assignment, restore or outstanding work. Holding no
    /// partition (before the first assignment, or between a revoke and the next) it waits at least
    /// <see cref="ProcessorOptions.FirstAssignmentWait"/>: joining a group can take a while.
    /// </summary>
    private bool IsIdle(TimeSpan idle, TimeSpan quietFor) =>
        quietFor >= (_owned.Count > 0 || idle >= _options.FirstAssignmentWait ? idle : _options.FirstAssignmentWait);

    /// <summary>With <c>--until-idle</c>: records wait only for the registry, and nothing moved for longer than the first-assignment wait.</summary>
    private bool WaitingForRegistryTooLong(TimeSpan idle, TimeSpan stalledFor) =>
        _paused.Count > 0 && _paused.AllWaitForRegistry && stalledFor >= (idle > _options.FirstAssignmentWait ? idle : _options.FirstAssignmentWait);

    private bool IsQuiet() =>
        _paused.Count == 0 && _restoring.Count == 0 && R.Checkpoints.InFlightCount == 0 &&
        _owned.Values.All(s => s.PendingDeadLetters == 0 && !s.HeldForCheckpoint);

    private TimeSpan PollWait()
    {
        var wait = ResumeDuePartitions();
        if (R.DeadLetters.Pump() is { } retryIn && retryIn < wait)
        {
            wait = retryIn;
        }

        return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    private async Task HandleAsync(ConsumeResult<byte[]?, byte[]?> record, CancellationToken cancellationToken)
    {
        var offset = record.Offset.Value;
        if (!_owned.TryGetValue(record.Partition.Value, out var state))
        {
            // Not ours yet: still restoring, and it seeks once restored.
            return;
        }

        if (offset < state.NextOffset)
        {
            // Seeks discard what was fetched before them, so offsets only go back if the partition did:
            // the topic was deleted and created again, or truncated. The state is not about these records.
            if (!state.WentBackwardsReported)
            {
                state.WentBackwardsReported = true;
                LogOffsetsWentBack(_logger, record.Topic, record.Partition.Value, offset, state.NextOffset);
            }

            return;
        }

        if (offset > state.NextOffset)
        {
            SkipGap(state, offset);
        }

        if (state.HeldForCheckpoint)
        {
            // Fetched before the pause took effect: read it again once the checkpoint is taken.
            R.Consumer.Seek(record.TopicPartitionOffset);
            return;
        }

        if (state.DecisionsToHonour > 0 && state.TryTakeDecision(offset, out var decision))
        {
            state.Aggregate.AddDeadLetter(decision.Reason);
            state.Advance(offset);
            Counters.HonouredOne();
            LogHonoured(_logger, record.Topic, record.Partition.Value, offset, decision.Reason, decision.DeadLetterOffset);
            return;
        }

        var (failures, registryWaits) = _paused.Count > 0 ? _paused.History(record.TopicPartitionOffset) : (0, 0);
        var startedAt = _metrics?.StartProcessing();
        try
        {
            if (await _pipeline.RunAsync(record, state.Aggregate, cancellationToken) is { } invalid)
            {
                _metrics?.Processed(startedAt, FailureKind.Invalid);
                DeadLetter(state, record, DeadLetterHeaders.ReasonInvalid, new InvalidOrderException(invalid), failures + 1);
                return;
            }

            _metrics?.Processed(startedAt);
            Counters.ProcessedOne();
            Done(state, record);
            RecordProcessed?.Invoke(record);
        }
        catch (Exception error) when (SchemaRegistryErrors.IsCredentialsRejected(error))
        {
            // Retrying cannot fix credentials: stop, with the record still unprocessed.
            R.Fatal ??= new RegistryCredentialsException(error);
            Rewind(record, failures, registryWaits, _retrySchedule.MaxDelay);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var kind = FailureClassifier.Classify(error);
            _metrics?.Processed(startedAt, kind);
            var decided = _policy.Decide(kind, failures, registryWaits);
            switch (decided.Action)
            {
                case FailureAction.WaitForRegistry:
                    Counters.WaitedForRegistry();
                    LogRegistryUnavailable(_logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                    Rewind(record, failures, registryWaits + 1, decided.Delay);
                    break;
                case FailureAction.Retry:
                    Counters.RetriedOne();
                    LogRetrying(_logger, record.Topic, record.Partition.Value, offset, (long)decided.Delay.TotalMilliseconds, failures + 1, error.Message);
                    Rewind(record, failures + 1, 0, decided.Delay);
                    break;
                default:
                    DeadLetter(state, record, decided.Reason!, error, failures + 1);
                    break;
            }
        }
    }

    private void DeadLetter(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, string reason, Exception error, int attempts)
    {
        var now = _time.GetUtcNow();
        var message = DeadLetterMessages.Build(record, _options.GroupId, reason, error, attempts, now);
        R.DeadLetters.Write(state, message, reason, record.Offset.Value);
        RecentDeadLetters.Add(now, record.Topic, record.Partition.Value, record.Offset.Value, reason, error);
        state.Aggregate.AddDeadLetter(reason);
        LogDeadLettered(_logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        Done(state, record);
    }

    private void Done(PartitionState state, ConsumeResult<byte[]?, byte[]?> record)
    {
        if (_paused.Count > 0)
        {
            _paused.Clear(record.TopicPartition);
        }

        state.Advance(record.Offset.Value);
    }

    private void Rewind(ConsumeResult<byte[]?, byte[]?> record, int failures, int registryWaits, TimeSpan delay)
    {
        _paused.Pause(record.TopicPartitionOffset, failures, registryWaits, delay);
        R.Consumer.Pause([record.TopicPartition]);
        R.Consumer.Seek(record.TopicPartitionOffset);
    }

    /// <summary>Resumes the partitions whose backoff has passed.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends, at most <see cref="MaxPollWait"/>.</returns>
    private TimeSpan ResumeDuePartitions()
    {
        var due = _paused.TakeDue(out var wait);
        if (due.Count > 0)
        {
            R.Consumer.Resume(due);
        }

        return wait;
    }

    /// <summary>The loop's housekeeping: acknowledgements, restores, checkpoints, pause flags.</summary>
    private void Pump()
    {
        var run = R;
        run.DeadLetters.Pump();
        foreach (var done in run.Checkpoints.Pump())
        {
            if (_owned.TryGetValue(done.Partition.Value, out var state) && !state.Released)
            {
                StoreOffset(done);
            }
        }

        if (_pauseNow.Count > 0)
        {
            run.Consumer.Pause(_pauseNow);
            _pauseNow.Clear();
        }

        if (_resumeNow.Count > 0)
        {
            run.Consumer.Resume(_resumeNow);
            _resumeNow.Clear();
        }

        RestoreDue();
        CheckpointDue();
    }

    private void CheckpointDue()
    {
        foreach (var state in _owned.Values)
        {
            switch (_checkpointSchedule.Next(state))
            {
                case CheckpointStep.Write:
                    if (R.Checkpoints.TryBegin(state, R.DeadLetters.AcknowledgedFrontier(state.DeadLetterPartition)))
                    {
                        _checkpointSchedule.Written(state);
                        Unhold(state);
                    }

                    break;
                case CheckpointStep.Hold when !state.HeldForCheckpoint:
                    state.HeldForCheckpoint = true;
                    R.Consumer.Pause([state.Partition]);
                    break;
            }
        }
    }

    /// <summary>Resumes a partition held for its checkpoint, unless it also waits for a retry of its own.</summary>
    private void Unhold(PartitionState state)
    {
        if (!state.HeldForCheckpoint)
        {
            return;
        }

        state.HeldForCheckpoint = false;
        if (!_paused.Contains(state.Partition))
        {
            R.Consumer.Resume([state.Partition]);
        }
    }

    private void StoreOffset(TopicPartitionOffset offset)
    {
        try
        {
            R.Consumer.StoreOffset(offset);
        }
        catch (KafkaException e)
        {
            // The partition went away meanwhile: its next owner restores from the checkpoint anyway.
            LogStoreFailed(_logger, offset.Topic, offset.Partition.Value, e.Error.Reason);
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        LogAssigned(_logger, Describe(partitions));
        var mine = partitions.Where(p => p.Topic == _options.Topic).ToList();
        if (mine.Count > 0)
        {
            // An assignment can be empty (a member with nothing to take); idle time counts from a real one.
            _everAssigned = true;
            _lastReadyAt = _time.GetTimestamp();
        }

        foreach (var partition in mine.Where(p => p.Partition.Value >= R.Layout.StatsPartitions))
        {
            R.Fatal ??= new TopicLayoutException(
                $"{partition.Topic} now has partition {partition.Partition.Value}, but {R.Layout.StatsTopic} has only {R.Layout.StatsPartitions}: " +
                $"add partitions to {R.Layout.StatsTopic} so that they match, then restart");
        }

        foreach (var partition in mine)
        {
            _restoring[partition.Partition.Value] = DateTimeOffset.MinValue;
        }

        Restore(mine);
        var offsets = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            if (_owned.TryGetValue(partition.Partition.Value, out var state))
            {
                offsets.Add(new TopicPartitionOffset(partition, state.NextOffset));
                // librdkafka keeps an application pause flag across reassignment: never come back paused.
                _resumeNow.Add(partition);
            }
            else
            {
                // Restored later by the loop, which then seeks; until then nothing is fetched.
                offsets.Add(new TopicPartitionOffset(partition, Offset.Unset));
                _pauseNow.Add(partition);
            }
        }

        PublishView();
        return offsets;
    }

    private void RestoreDue()
    {
        if (_restoring.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var due = _restoring.Where(r => r.Value <= now).Select(r => new TopicPartition(_options.Topic, r.Key)).ToList();
        if (due.Count == 0)
        {
            return;
        }

        foreach (var partition in Restore(due))
        {
            var offset = new TopicPartitionOffset(partition, _owned[partition.Partition.Value].NextOffset);
            _pauseNow.Remove(partition);
            R.Consumer.Seek(offset);
            R.Consumer.Resume([partition]);

            // A restore blocks the loop while it reads (9 s measured, a broker just back): the
            // partitions resumed now have not had a chance to deliver, whatever the time since the last record.
            _lastReadyAt = _time.GetTimestamp();
        }
    }

    /// <summary>Restores the partitions' newest checkpoints and reads back their dead letters since.</summary>
    /// <returns>The partitions restored; the others stay in <see cref="_restoring"/> with a backoff.</returns>
    private List<TopicPartition> Restore(List<TopicPartition> partitions)
    {
        if (partitions.Count == 0)
        {
            return [];
        }

        var run = R;
        var ids = partitions.Select(p => p.Partition.Value).ToList();
        try
        {
            var checkpoints = run.CheckpointReader.ReadLatest(run.Layout.StatsTopic, _options.GroupId, ids, _options.RestoreTimeout);
            var requests = ids.ToDictionary(
                p => p,
                p => new LedgerRequest(
                    _options.Topic,
                    p,
                    _options.GroupId,
                    checkpoints[p]?.NextOffset ?? 0,
                    run.DeadLetters.PartitionFor(p),
                    checkpoints[p] is { } c && c.DeadLetterPartition == run.DeadLetters.PartitionFor(p) ? c.DeadLetterOffset : 0));
            var scans = run.Ledger.ReadBack(run.Layout.DeadLetterTopic, [.. requests.Values], _options.RestoreTimeout);
            foreach (var partition in partitions)
            {
                var p = partition.Partition.Value;
                var checkpoint = checkpoints[p];
                var scan = scans[requests[p]];
                var aggregate = checkpoint is null
                    ? new PartitionAggregate(_options.WindowMinutes)
                    : PartitionAggregate.FromData(checkpoint.Data, _options.WindowMinutes);
                var state = new PartitionState(partition, aggregate, checkpoint?.NextOffset ?? 0, requests[p].DeadLetterPartition, scan.End, scan.Decisions);
                // Records deleted by retention while no one held the partition are a loss to count now.
                var watermarks = run.Reader.Watermarks(partition, _options.RestoreTimeout);
                if (watermarks.Low.Value > state.NextOffset)
                {
                    SkipGap(state, watermarks.Low.Value, watermarks);
                }

                _owned[p] = state;
                _checkpointSchedule.Started(state);
                _restoring.Remove(p);
                if (checkpoint is not null)
                {
                    Counters.CheckpointRestored();
                }

                LogRestored(_logger, partition.Topic, p, state.NextOffset, aggregate.Overall.Count, scan.Decisions.Count, scan.Duplicates,
                    checkpoint?.CheckpointId ?? "none");
            }

            return partitions;
        }
        catch (Exception e) when (SchemaRegistryErrors.IsCredentialsRejected(e))
        {
            R.Fatal ??= new RegistryCredentialsException(e);
            return [];
        }
        catch (Exception e) when (e is RegistryUnavailableException or KafkaException or TimeoutException)
        {
            var retryAt = _time.GetUtcNow() + _retrySchedule.MaxDelay;
            foreach (var p in ids)
            {
                _restoring[p] = retryAt;
            }

            LogRestoreFailed(_logger, _options.Topic, string.Join(",", ids), (long)_retrySchedule.MaxDelay.TotalMilliseconds, e.Message);
            return [];
        }
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        if (_run is null || _consumerAbandoned)
        {
            // A consumer close that outlived its bound and was abandoned: the state is gone already.
            return;
        }

        LogRevoked(_logger, Describe(partitions));
        var states = Owned(partitions);
        CheckpointAndStore(states);

        Release(partitions, states);
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        if (_run is null || _consumerAbandoned)
        {
            return;
        }

        // Another member may own them already: writing a checkpoint now would race its state. Drop.
        LogLost(_logger, Describe(partitions));
        Release(partitions, Owned(partitions));
    }

    private List<PartitionState> Owned(List<TopicPartition> partitions) =>
        [.. partitions.Where(p => p.Topic == _options.Topic).Select(p => _owned.GetValueOrDefault(p.Partition.Value)).OfType<PartitionState>()];

    private void Release(List<TopicPartition> partitions, List<PartitionState> states)
    {
        foreach (var state in states)
        {
            state.Released = true;
            R.DeadLetters.Forget(state);
            _owned.Remove(state.Partition.Partition.Value);
        }

        foreach (var partition in partitions)
        {
            _restoring.Remove(partition.Partition.Value);
            _pauseNow.Remove(partition);
            _resumeNow.Remove(partition);
        }

        _paused.Forget(partitions);
        try
        {
            // The pause flag would outlive the assignment and greet the partition's next return.
            R.Consumer.Resume(partitions);
        }
        catch (KafkaException)
        {
            // Not assigned any more: nothing to resume.
        }

        if (!_closing)
        {
            PublishView();
        }
    }

    /// <summary>
    /// Checkpoints the partitions now (those changed since their last checkpoint), first letting
    /// their dead letters be acknowledged, and waits for the checkpoints, at most
    /// <see cref="ProcessorOptions.RevokeTimeout"/>; then stores the offsets they cover. Stored, not
    /// committed: librdkafka commits a removed partition's stored offset itself (enable.auto.commit),
    /// asynchronously, while a synchronous commit inside a rebalance callback can wait on a group
    /// that is itself rebalancing or closing.
    /// </summary>
    private void CheckpointAndStore(List<PartitionState> states)
    {
        var run = R;
        var deadline = _time.GetUtcNow() + _options.RevokeTimeout;

        // Until every state is covered by an acknowledged checkpoint: dead letters are acknowledged
        // first, a checkpoint already in flight (started before the changes since) is awaited, then
        // the last one is written.
        // A state whose dead letters can never be written cannot be covered; nor can any once checkpoints cannot be written.
        bool Coverable(PartitionState s) => s.Dirty && (s.PendingDeadLetters == 0 || run.DeadLetters.Fatal is null);
        while (states.Any(Coverable) && _time.GetUtcNow() < deadline && run.Checkpoints.Fatal is null)
        {
            foreach (var state in states.Where(s => s.Dirty && !s.CheckpointInFlight && s.PendingDeadLetters == 0))
            {
                run.Checkpoints.TryBegin(state, run.DeadLetters.AcknowledgedFrontier(state.DeadLetterPartition));
            }

            run.Producer.Flush(TimeSpan.FromMilliseconds(20));
            run.DeadLetters.Pump();
            run.Checkpoints.Pump();
        }

        foreach (var state in states.Where(s => s.Dirty))
        {
            LogNotCheckpointed(_logger, state.Partition.Topic, state.Partition.Partition.Value, state.PendingDeadLetters);
        }

        foreach (var state in states.Where(s => s.CheckpointedOffset > 0))
        {
            StoreOffset(new TopicPartitionOffset(state.Partition, state.CheckpointedOffset));
        }
    }

    private void OnConsumeError(ConsumeException e)
    {
        if (e.Error.IsFatal)
        {
            R.Fatal ??= new KafkaException(e.Error);
            return;
        }

        // Topic not there yet, max.poll.interval.ms exceeded (the client rejoins), a broker away: the loop goes on.
        LogConsumeError(_logger, e.Error.Code, e.Error.Reason);
    }

    /// <summary>
    /// Records between the state's offset and <paramref name="next"/> never came: retention deleted
    /// them before they were read (librdkafka then resets to the partition's start), or they were
    /// transaction markers or compacted away. Only the first kind is a loss: those below the
    /// partition's start. They are counted, logged as an error, and reported by the summary and by
    /// <c>orders stats</c>; dead letters already written for them still count as decided.
    /// </summary>
    private void SkipGap(PartitionState state, long next, WatermarkOffsets? known = null)
    {
        var partition = state.Partition;
        var from = state.NextOffset;
        // Asked of the broker, not taken from the client's cache: a stale start would hide a loss.
        // Gaps are rare (a reset, or a transaction marker crossed), so the round trip is too.
        var start = known?.Low ?? Offset.Unset;
        if (start == Offset.Unset && next > from)
        {
            try
            {
                start = R.Consumer.QueryWatermarkOffsets(partition, _options.BrokerTimeout).Low;
            }
            catch (KafkaException e)
            {
                LogConsumeError(_logger, e.Error.Code, $"{partition}: offsets jump from {from} to {next}, and its start cannot be read to tell a loss from a gap: {e.Error.Reason}");
            }
        }

        if (start != Offset.Unset && start.Value > from)
        {
            var lost = state.SkipTo(Math.Min(start.Value, next));
            if (lost > 0)
            {
                state.Aggregate.AddSkippedByRetention(lost);
                Counters.Skipped(lost);
                LogRecordsLost(_logger, partition.Topic, partition.Partition.Value, lost, from, Math.Min(start.Value, next));
            }
        }

        state.SkipTo(next);
    }

    private void Close()
    {
        if (_run is not { } run)
        {
            return;
        }

        // The summary shows the state held at the end, before the group takes it back.
        _closing = true;
        PublishView();
        var states = _owned.Values.ToList();
        // The close below commits the stored offsets as it gives the partitions up.
        CheckpointAndStore(states);

        _notCheckpointedAtClose = [.. states.Where(s => s.Dirty).Select(s => s.Partition.Partition.Value).Order()];

        // Leaves the group; the revoke handler finds the state checkpointed already.
        ConsumerClosed = CloseConsumer(run.Consumer);
        run.Producer.Flush(TimeSpan.FromSeconds(10));
        run.DeadLetters.Pump();
        _run = null;
    }

    private bool CloseConsumer(IConsumer<byte[]?, byte[]?> consumer)
    {
        var closing = Task.Run(() =>
        {
            try
            {
                consumer.Close();
            }
            catch (KafkaException e)
            {
                LogCloseFailed(_logger, e.Error.Reason);
            }
        });
        if (closing.Wait(_options.CloseTimeout))
        {
            return true;
        }

        // From now on its callbacks do nothing; the consumer is left to the process's end.
        _consumerAbandoned = true;
        LogCloseTimedOut(_logger, _options.CloseTimeout.TotalSeconds);
        return false;
    }

    private void PublishView()
    {
        var partitions = _owned.ToDictionary(
            p => p.Key,
            p => new PartitionView(p.Value.NextOffset, p.Value.CheckpointedOffset, p.Value.Aggregate.Overall));
        var aggregates = AggregateData.Combine(_owned.Values.Select(s => s.Aggregate.ToData()), _options.WindowMinutes);
        _view = new ProcessorView(Counters, aggregates, partitions, _restoring.Count, _everAssigned);
    }

    private void LogStatus(long started)
    {
        var view = _view;
        var seconds = Math.Max(_time.GetElapsedTime(started).TotalSeconds, 0.001);
        var latest = view.Aggregates.NewestMinute is { } minute ? view.Aggregates.Minutes[minute].Mean : null;
        LogStatusLine(
            _logger,
            Counters.Processed,
            Counters.Retried,
            Counters.DeadLetteredByReason.Values.Sum(),
            Format(view.Aggregates.Overall.Mean),
            Format(latest),
            (Counters.Processed / seconds).ToString("F1", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Format(double? value) => value?.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a";

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]"));

    /// <summary>Disposes the run's consumer, unless its close was abandoned (destroying it would wait on the close).</summary>
    private sealed class ConsumerDisposal(IConsumer<byte[]?, byte[]?> consumer, OrderProcessor processor) : IDisposable
    {
        public void Dispose()
        {
            if (processor.ConsumerClosed)
            {
                consumer.Dispose();
            }
        }
    }

    /// <summary>The clients and helpers of one run.</summary>
    private sealed class Run(
        TopicLayout layout,
        PartitionRangeReader reader,
        IProducer<byte[]?, byte[]?> producer,
        IConsumer<byte[]?, byte[]?> consumer,
        CheckpointReader checkpointReader,
        DeadLetterLedger ledger,
        CheckpointWriter checkpoints,
        DeadLetterWriter deadLetters)
    {
        private Exception? _fatal;

        public TopicLayout Layout { get; } = layout;
        public PartitionRangeReader Reader { get; } = reader;
        public IProducer<byte[]?, byte[]?> Producer { get; } = producer;
        public IConsumer<byte[]?, byte[]?> Consumer { get; } = consumer;
        public CheckpointReader CheckpointReader { get; } = checkpointReader;
        public DeadLetterLedger Ledger { get; } = ledger;
        public CheckpointWriter Checkpoints { get; } = checkpoints;
        public DeadLetterWriter DeadLetters { get; } = deadLetters;

        public Exception? Fatal
        {
            get => _fatal ?? DeadLetters.Fatal ?? Checkpoints.Fatal;
            set => _fatal = value;
        }
    }
}
