using Microsoft.Extensions.Options;
using Orders.Contracts;
using Orders.Hosting;

namespace Orders.Processor.Hosting;

/// <summary>
/// The processor's settings, bound from the <c>Processor</c> configuration section (flags,
/// appsettings.json and environment variables such as <c>Processor__GroupId</c> alike).
/// </summary>
public sealed class ProcessorOptions
{
    public const string Section = "Processor";
    public const string DefaultGroup = "order-processor";

    public string Topic { get; set; } = Topics.Orders;

    public string DeadLetterTopic => Topics.DeadLetterFor(Topic);

    public string StatsTopic => Topics.StatsFor(Topic);

    public string GroupId { get; set; } = DefaultGroup;

    /// <summary>Attempts for a transiently failing record before it is dead-lettered (1 = no retry).</summary>
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Stop after this long without any record; null runs until cancelled.</summary>
    public TimeSpan? UntilIdle { get; set; }

    /// <summary>With <see cref="UntilIdle"/>: how long to wait for the first assignment before calling it idle.</summary>
    public TimeSpan FirstAssignmentWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Share of handler calls that fail transiently, to exercise retries (0 to 1).</summary>
    public double FailRatio { get; set; }

    /// <summary>The simulated downstream's settings (used when no <see cref="Records.IOrderHandler"/> of your own is registered).</summary>
    public HandlerOptions Handler { get; set; } = new();

    /// <summary>Handler calls at once, across the partitions held.</summary>
    public int MaxInFlight { get; set; } = 256;

    /// <summary>Which records may be handled at the same time: by key (the default), one per partition, or any.</summary>
    public Records.Ordering Ordering { get; set; } = Records.Ordering.Key;

    /// <summary>
    /// Records of one partition taken in hand and not done (in flight, waiting for their key or a
    /// retry, or ready to start) before the partition pauses: the bound on what is buffered, about a
    /// kilobyte each. Several times the in-flight limit, so that a partition is rarely paused.
    /// </summary>
    public int MaxBuffered { get; set; } = 1024;

    /// <summary>
    /// Records completed above a partition's lowest incomplete one (one held up by retries) before
    /// the partition pauses: each is a few bytes of every checkpoint, and work redone after a crash if not checkpointed.
    /// </summary>
    public int MaxOutOfOrder { get; set; } = 10_000;

    /// <summary>
    /// Records polled ahead of the loop on a thread of their own and handed to it in batches of 256, so
    /// that the client's work runs beside the processing (<see cref="Loop.FetchAheadConsumer"/>); 0: the
    /// loop polls the consumer itself.
    /// </summary>
    public int FetchAhead { get; set; } = 2048;

    public int Seed { get; set; } = 42;

    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often changed partitions are checkpointed; a crash costs at most this much reprocessing.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest checkpoint record: a checkpoint with many products or minutes is split into chunks of at
    /// most this size, or of what the stats topic (max.message.bytes) and the producer (message.max.bytes,
    /// batch.size) accept if that is less.
    /// </summary>
    public int CheckpointChunkBytes { get; set; } = 256 * 1024;

    /// <summary>Per-minute (event time) windows kept: the newest this many minutes.</summary>
    public int WindowMinutes { get; set; } = 60;

    /// <summary>How long a dead letter that cannot be written is retried before the processor stops.</summary>
    public TimeSpan DeadLetterTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long restoring a partition (reading its checkpoint and dead letters) may take before it is retried later.</summary>
    public TimeSpan RestoreTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the loop waits for a restore it starts before it goes on without it (the read goes on
    /// off the loop's thread, and its partitions stay paused until it ends). Not a setting: tests shorten it.
    /// </summary>
    internal TimeSpan RestoreWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The most a stop adds after <see cref="RevokeTimeout"/> and <see cref="CloseTimeout"/>: the last
    /// wait for records still queued (dead letters, checkpoints), before leaving the group.
    /// </summary>
    public static readonly TimeSpan FinalFlush = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most <see cref="RevokeTimeout"/> and <see cref="CloseTimeout"/> may add up to: with the
    /// <see cref="FinalFlush"/>, a stop then ends within <see cref="StopLimit.AfterSignal"/> with 5 s
    /// left for the rest (the record in hand, disposing the clients).
    /// </summary>
    public static readonly TimeSpan MaxRevokeAndClose = StopLimit.AfterSignal - FinalFlush - TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a revoke or close waits, in all, for handler calls in flight to end (at most half of
    /// it), dead letters to be acknowledged and the final checkpoints.
    /// </summary>
    public TimeSpan RevokeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long leaving the group at the end may take: past it the processor stops without having
    /// left (its state is checkpointed by then), and the group reassigns after its session timeout.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait for a broker to answer at start before giving up with an error.</summary>
    public TimeSpan BrokerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How the dead-letter and stats topics are created when missing; by default as safe as the input topic.</summary>
    public CreatedTopicOptions CreatedTopics { get; set; } = new();
}

/// <summary>The simulated downstream (<c>Processor:Handler</c>).</summary>
public sealed class HandlerOptions
{
    /// <summary>How long each call takes: <c>10ms</c>, or a range <c>5ms-20ms</c>; none by default.</summary>
    public string? Latency { get; set; }
}

/// <summary>Checks <see cref="ProcessorOptions"/> at start, so a bad setting is one clear line, whatever set it.</summary>
public sealed class ProcessorOptionsValidator : IValidateOptions<ProcessorOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessorOptions options)
    {
        var errors = new List<string>();
        if (Topics.Validate(options.Topic) is { } topicError)
        {
            errors.Add($"Processor:Topic: {topicError}");
        }

        if (Orders.Kafka.ReaderGroups.Problem(options.GroupId) is { } groupProblem)
        {
            errors.Add($"Processor:GroupId {groupProblem}");
        }

        Check(errors, options.MaxAttempts is >= 1 and <= 100, $"Processor:MaxAttempts must be between 1 and 100, not {options.MaxAttempts}");
        Check(errors, options.RetryBaseDelay > TimeSpan.Zero, "Processor:RetryBaseDelay must be positive");
        Check(
            errors,
            options.RetryMaxDelay >= options.RetryBaseDelay,
            $"Processor:RetryMaxDelay ({options.RetryMaxDelay.TotalMilliseconds:0.###} ms) must be at least Processor:RetryBaseDelay (--retry-delay-ms, {options.RetryBaseDelay.TotalMilliseconds:0.###} ms): raise the first or lower the second");
        Check(errors, options.UntilIdle is null || options.UntilIdle > TimeSpan.Zero, "Processor:UntilIdle must be positive");
        Check(errors, options.FirstAssignmentWait > TimeSpan.Zero, "Processor:FirstAssignmentWait must be positive");
        Check(errors, options.FailRatio is >= 0 and <= 1, $"Processor:FailRatio must be between 0 and 1, not {options.FailRatio}");
        if (!Records.LatencyRange.TryParse(options.Handler.Latency, out _, out var latencyError))
        {
            errors.Add($"Processor:Handler:Latency: {latencyError}");
        }

        Check(errors, options.MaxInFlight is >= 1 and <= 100_000, $"Processor:MaxInFlight must be between 1 and 100000, not {options.MaxInFlight}");
        Check(errors, Enum.IsDefined(options.Ordering), $"Processor:Ordering must be key, partition or unordered, not {options.Ordering}");
        Check(errors, options.MaxBuffered is >= 1 and <= 1_000_000, $"Processor:MaxBuffered must be between 1 and 1000000, not {options.MaxBuffered}");
        Check(errors, options.MaxOutOfOrder is >= 1 and <= 1_000_000, $"Processor:MaxOutOfOrder must be between 1 and 1000000, not {options.MaxOutOfOrder}");
        Check(errors, options.FetchAhead is >= 0 and <= 1_000_000, $"Processor:FetchAhead must be between 0 and 1000000, not {options.FetchAhead}");
        Check(errors, options.StatusInterval > TimeSpan.Zero, "Processor:StatusInterval must be positive");
        Check(errors, options.CheckpointInterval >= TimeSpan.FromMilliseconds(10), "Processor:CheckpointInterval must be at least 10 ms");
        Check(errors, options.CheckpointChunkBytes is >= 4096 and <= 16 * 1024 * 1024, $"Processor:CheckpointChunkBytes must be between 4096 and 16777216, not {options.CheckpointChunkBytes}");
        Check(errors, options.WindowMinutes is >= 1 and <= 7 * 24 * 60, $"Processor:WindowMinutes must be between 1 and 10080, not {options.WindowMinutes}");
        Check(errors, options.DeadLetterTimeout > TimeSpan.Zero, "Processor:DeadLetterTimeout must be positive");
        Check(errors, options.RestoreTimeout > TimeSpan.Zero, "Processor:RestoreTimeout must be positive");
        Check(errors, options.RevokeTimeout > TimeSpan.Zero, "Processor:RevokeTimeout must be positive");
        Check(errors, options.CloseTimeout > TimeSpan.Zero, "Processor:CloseTimeout must be positive");
        Check(
            errors,
            options.RevokeTimeout + options.CloseTimeout <= ProcessorOptions.MaxRevokeAndClose,
            $"Processor:RevokeTimeout ({options.RevokeTimeout.TotalSeconds:0.###} s) and Processor:CloseTimeout ({options.CloseTimeout.TotalSeconds:0.###} s) " +
            $"must add up to at most {ProcessorOptions.MaxRevokeAndClose.TotalSeconds:0} s: a stop takes both, then up to {ProcessorOptions.FinalFlush.TotalSeconds:0} s to flush, " +
            $"and the process ends {StopLimit.AfterSignal.TotalSeconds:0} s after the signal");
        Check(errors, options.BrokerTimeout > TimeSpan.Zero, "Processor:BrokerTimeout must be positive");
        Check(errors, options.CreatedTopics.ReplicationFactor is null or >= 1, $"Processor:CreatedTopics:ReplicationFactor must be at least 1, not {options.CreatedTopics.ReplicationFactor}");
        Check(errors, options.CreatedTopics.MinInsyncReplicas is null or >= 1, $"Processor:CreatedTopics:MinInsyncReplicas must be at least 1, not {options.CreatedTopics.MinInsyncReplicas}");
        Check(
            errors,
            options.CreatedTopics is not { MinInsyncReplicas: { } isr, ReplicationFactor: { } replicas } || isr <= replicas,
            $"Processor:CreatedTopics:MinInsyncReplicas ({options.CreatedTopics.MinInsyncReplicas}) must be at most Processor:CreatedTopics:ReplicationFactor ({options.CreatedTopics.ReplicationFactor}): no write to the topics could succeed");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, bool ok, string error)
    {
        if (!ok)
        {
            errors.Add(error);
        }
    }
}
