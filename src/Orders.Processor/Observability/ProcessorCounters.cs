using Orders.Contracts;

namespace Orders.Processor.Observability;

/// <summary>
/// What this processor did in this run, counted where it happens. The summary, the live views
/// and the metrics all read these fields: one source of truth. Written by the consume loop and
/// the producer's callbacks, read from anywhere.
/// </summary>
public sealed class ProcessorCounters
{
    private long _processed;
    private long _retried;
    private long _registryWaits;
    private long _poison;
    private long _invalid;
    private long _retriesExhausted;
    private long _deadLetterWriteFailures;
    private long _honoured;
    private long _skippedByRetention;
    private long _checkpointsWritten;
    private long _checkpointFailures;
    private long _checkpointsRestored;

    public long Processed => Interlocked.Read(ref _processed);

    public long Retried => Interlocked.Read(ref _retried);

    public long RegistryWaits => Interlocked.Read(ref _registryWaits);

    public long DeadLetterWriteFailures => Interlocked.Read(ref _deadLetterWriteFailures);

    /// <summary>Records dead-lettered before a restart, recognised from their dead letters and not decided again.</summary>
    public long Honoured => Interlocked.Read(ref _honoured);

    public long SkippedByRetention => Interlocked.Read(ref _skippedByRetention);

    public long CheckpointsWritten => Interlocked.Read(ref _checkpointsWritten);

    public long CheckpointFailures => Interlocked.Read(ref _checkpointFailures);

    public long CheckpointsRestored => Interlocked.Read(ref _checkpointsRestored);

    /// <summary>Dead letters written and acknowledged in this run, by reason.</summary>
    public IReadOnlyDictionary<string, long> DeadLetteredByReason => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        [DeadLetterHeaders.ReasonPoison] = Interlocked.Read(ref _poison),
        [DeadLetterHeaders.ReasonInvalid] = Interlocked.Read(ref _invalid),
        [DeadLetterHeaders.ReasonRetriesExhausted] = Interlocked.Read(ref _retriesExhausted),
    };

    public void ProcessedOne() => Interlocked.Increment(ref _processed);

    public void RetriedOne() => Interlocked.Increment(ref _retried);

    public void WaitedForRegistry() => Interlocked.Increment(ref _registryWaits);

    public void DeadLettered(string reason)
    {
        switch (reason)
        {
            case DeadLetterHeaders.ReasonPoison: Interlocked.Increment(ref _poison); break;
            case DeadLetterHeaders.ReasonInvalid: Interlocked.Increment(ref _invalid); break;
            default: Interlocked.Increment(ref _retriesExhausted); break;
        }
    }

    public void DeadLetterWriteFailed() => Interlocked.Increment(ref _deadLetterWriteFailures);

    public void HonouredOne() => Interlocked.Increment(ref _honoured);

    /// <summary>Decisions honoured where their records will never arrive (a gap the partition jumped over).</summary>
    public void HonouredMany(long count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _honoured, count);
        }
    }

    public void Skipped(long records) => Interlocked.Add(ref _skippedByRetention, records);

    public void CheckpointWritten() => Interlocked.Increment(ref _checkpointsWritten);

    public void CheckpointFailed() => Interlocked.Increment(ref _checkpointFailures);

    public void CheckpointRestored() => Interlocked.Increment(ref _checkpointsRestored);
}
