using Microsoft.Extensions.Logging;
using Orders.Decoding;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Orders.Processor.Records;

namespace Orders.Processor.Loop;

/// <summary>What a processor needs besides Kafka: its settings, the record path's steps, its status and clock.</summary>
public sealed record ProcessorServices(
    ProcessorOptions Options,
    OrderDecoder Decoder,
    IOrderHandler Handler,
    CheckpointSerde Serde,
    ProcessorStatus Status,
    TimeProvider Time,
    ILoggerFactory Loggers,
    ProcessorMetrics? Metrics = null,
    IRecordObserver? Observer = null);

/// <summary>The processor's ways out to Kafka: <see cref="KafkaSession"/>'s clients in a run, fakes in unit tests.</summary>
/// <param name="SpareStoredState">A second way to read stored state (a reader client of its own), for partitions assigned while a read through the first is under way; none: they wait for it.</param>
public sealed record ProcessorPorts(IConsumerPort Consumer, IProducerPort Producer, IPartitionStateSource StoredState, IPartitionStateSource? SpareStoredState = null);

/// <summary>The pieces of one run of the loop, wired together; each is a class of its own, tested alone.</summary>
public sealed record LoopParts(
    ProcessorOptions Options,
    IConsumerPort Consumer,
    IProducerPort Producer,
    PartitionTable Table,
    FetchControl Fetch,
    PartitionRestorer Restorer,
    DeadLetterWriter DeadLetters,
    CheckpointCoordinator Checkpoints,
    Assignments Assignments,
    RecordGate Gate,
    RecordProcessor Records,
    Housekeeping Housekeeping,
    IdleWatch Idle,
    ProcessorStatus Status,
    FatalSignal Fatal,
    TimeProvider Time,
    ILogger Logger)
{
    private static readonly TimeSpan MaxPollWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan HoldAfter = TimeSpan.FromSeconds(1);

    /// <param name="stopping">The run's stop: a restore waiting for a broker gives up when it fires.</param>
    public static LoopParts Create(ProcessorServices services, TopicLayout layout, ProcessorPorts ports, FatalSignal fatal, CancellationToken stopping = default)
    {
        var (options, time, status) = (services.Options, services.Time, services.Status);
        // Each piece logs under its own name (Orders.Processor.Checkpoints.CheckpointWriter, ...).
        ILogger Logger<T>() => services.Loggers.CreateLogger<T>();
        var counters = status.Counters;
        var consumer = ports.Consumer;
        var retrySchedule = new RetrySchedule(options.RetryBaseDelay, options.RetryMaxDelay, new Random(options.Seed));
        var table = new PartitionTable();
        var fetch = new FetchControl(consumer, table, time, MaxPollWait);
        var idle = new IdleWatch(time, options.UntilIdle, options.FirstAssignmentWait);
        var schedule = new CheckpointSchedule(time, options.CheckpointInterval, HoldAfter);
        var deadLetters = new DeadLetterWriter(
            ports.Producer, layout.DeadLetterTopic, retrySchedule, options.DeadLetterTimeout, time, counters, fatal, Logger<DeadLetterWriter>());
        var writer = new CheckpointWriter(
            ports.Producer,
            services.Serde,
            layout.StatsTopic,
            options.GroupId,
            Math.Max(1024, CheckpointChunks.ValueLimit(Math.Min(options.CheckpointChunkBytes, layout.CheckpointRecordLimit), options.GroupId)),
            time,
            counters,
            fatal,
            Logger<CheckpointWriter>());
        var checkpoints = new CheckpointCoordinator(writer, schedule, deadLetters, table, fetch, consumer, ports.Producer, fatal, time, Logger<CheckpointCoordinator>());
        var gaps = new RetentionGaps(consumer, fetch, options.BrokerTimeout, counters, Logger<RetentionGaps>());
        var restorer = new PartitionRestorer(
            ports.SpareStoredState is { } spare ? [ports.StoredState, spare] : [ports.StoredState], table, deadLetters, schedule, gaps, options.WindowMinutes, options.RestoreTimeout, retrySchedule.MaxDelay, options.RestoreWait, counters, fatal, time, Logger<PartitionRestorer>(), stopping);
        var pipeline = new OrderPipeline(services.Decoder, services.Handler, services.Metrics);
        var handler = new HandlerInvoker(pipeline, services.Metrics);
        var records = new RecordProcessor(
            pipeline,
            handler,
            new Dispatcher(handler, options.MaxInFlight, options.Ordering, time),
            new FailurePolicy(retrySchedule, options.MaxAttempts, fatal),
            fetch,
            new RecordFailures(deadLetters, status, options.GroupId, time, Logger<RecordProcessor>()),
            new FlowControl(new FlowLimits(options.MaxBuffered, options.MaxOutOfOrder), fetch),
            status,
            options.GroupId,
            time,
            services.Metrics,
            services.Observer);
        var assignments = new Assignments(
            layout, table, restorer, checkpoints, fetch, records, deadLetters, idle, status, options.WindowMinutes, options.RevokeTimeout, fatal, time, Logger<Assignments>());
        var gate = new RecordGate(table, gaps, fetch, counters, Logger<RecordGate>());
        var housekeeping = new Housekeeping(
            options.Topic, deadLetters, checkpoints, table, restorer, assignments, fetch, idle, status, options.StatusInterval, time, Logger<Housekeeping>());
        return new LoopParts(
            options, consumer, ports.Producer, table, fetch, restorer, deadLetters, checkpoints, assignments, gate, records, housekeeping, idle, status, fatal, time, Logger<ConsumeLoop>());
    }
}
