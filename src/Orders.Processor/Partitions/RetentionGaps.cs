using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// Records between a state's offset and the next one that arrives never came: retention deleted
/// them before they were read (librdkafka then resets to the partition's start), or they were
/// transaction markers or compacted away. Only the first kind is a loss: those below the
/// partition's start. They are counted, logged as an error, and reported by the summary and by
/// <c>orders stats</c>; dead letters already written for them still count as decided. When the start
/// cannot be read, the state does not move: the partition waits <see cref="RecheckDelay"/> and fetches
/// again from where it was, so a loss is never taken for a gap.
/// </summary>
public sealed class RetentionGaps(IConsumerPort consumer, FetchControl fetch, TimeSpan brokerTimeout, ProcessorCounters counters, ILogger logger)
{
    /// <summary>How long a partition whose start could not be read waits before it fetches again (and the start is asked again).</summary>
    public static readonly TimeSpan RecheckDelay = TimeSpan.FromSeconds(1);

    /// <summary>Moves the state to <paramref name="next"/>, counting the records below the partition's start as lost.</summary>
    /// <param name="known">The partition's watermarks, when the caller has just read them.</param>
    /// <returns>
    /// False when the partition's start could not be read: the state stays where it was, and the partition
    /// fetches again from there after <see cref="RecheckDelay"/> (the record at <paramref name="next"/> is dropped, to be fetched again).
    /// </returns>
    public bool Skip(PartitionState state, long next, WatermarkOffsets? known = null)
    {
        var partition = state.Partition;
        var from = state.FetchPosition;
        // Asked of the broker, not taken from the client's cache: a stale start would hide a loss.
        // Gaps are rare (a reset, or a transaction marker crossed), so the round trip is too.
        var start = known?.Low ?? Offset.Unset;
        if (start == Offset.Unset && next > from)
        {
            try
            {
                start = consumer.QueryWatermarkOffsets(partition, brokerTimeout).Low;
            }
            catch (KafkaException e)
            {
                Log.ConsumeError(
                    logger,
                    e.Error.Code,
                    $"{partition}: offsets jump from {from} to {next}, and its start cannot be read to tell a loss from a gap: {e.Error.Reason}; it fetches again from {from} in {RecheckDelay.TotalSeconds:0} s");
                fetch.WaitToFetch(partition, RecheckDelay, FetchHold.GapCheck);
                return false;
            }
        }

        if (start != Offset.Unset && start.Value > from)
        {
            var lostTo = Math.Min(start.Value, next);
            var (lost, honoured) = state.SkipTo(lostTo);
            counters.HonouredMany(honoured);
            if (lost > 0)
            {
                state.Aggregate.AddSkippedByRetention(lost);
                counters.Skipped(lost);
                // The offsets named are the range's, both included (lostTo is where the partition starts now).
                Log.RecordsLost(logger, partition.Topic, partition.Partition.Value, lost, from, lostTo - 1);
            }
        }

        counters.HonouredMany(state.SkipTo(next).Honoured);
        return true;
    }
}
