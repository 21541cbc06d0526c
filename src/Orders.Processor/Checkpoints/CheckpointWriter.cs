using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Orders.RegistryClient;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// Writes partition checkpoints to the stats topic (partition p of it for input partition p),
/// asynchronously: the consume loop starts one and goes on; when every chunk is acknowledged the
/// checkpoint counts, and the loop may commit its offset for lag tools. A checkpoint is only taken
/// when none of the partition's dead letters is still unacknowledged, so it never covers a
/// decision that is not on record. Once one is acknowledged, the chunks of the checkpoints it
/// supersedes (the one restored, the one written before, any written only in part) are deleted
/// with tombstones, so that a compacted stats topic keeps one checkpoint per partition.
/// </summary>
public sealed class CheckpointWriter(
    IProducerPort producer,
    CheckpointSerde serde,
    string statsTopic,
    string group,
    int chunkValueBytes,
    TimeProvider time,
    ProcessorCounters counters,
    FatalSignal fatal,
    ILogger logger)
{
    private static readonly TimeSpan RegistrationRetry = TimeSpan.FromSeconds(2);

    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentQueue<(PartitionState State, string Key)> _tombstoneFailures = new();
    private readonly Dictionary<string, Pending> _inFlight = new(StringComparer.Ordinal);
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private Task<int>? _registration;
    private long _registerAgainAt = long.MinValue;
    private int? _schemaId;
    private long _sequence;

    public bool Ready => _schemaId is not null;

    public int InFlightCount => _inFlight.Count;

    /// <summary>Starts registering the checkpoint schema if that is not done yet (it needs the registry).</summary>
    public void Prepare()
    {
        if (_schemaId is not null || fatal.IsSet)
        {
            // Registered, or the run is over: nothing more to ask the registry.
            return;
        }

        if (_registration is null)
        {
            if (time.HasCome(_registerAgainAt))
            {
                // Off the loop's context: a revoke or a close waits for it inside a callback, where nothing
                // posted to the loop's thread runs, and it touches nothing of the loop's (Prepare reads its end).
                using (LoopThread.Suppressed())
                {
                    _registration = serde.RegisterAsync(statsTopic);
                }
            }

            return;
        }

        if (!_registration.IsCompleted)
        {
            return;
        }

        if (_registration.IsCompletedSuccessfully)
        {
            _schemaId = _registration.Result;
        }
        else if (_registration.Exception?.InnerException is { } rejected && fatal.StopsOnRejectedCredentials(rejected))
        {
            // Not the schema's fault: the registry refuses us anything (401/403).
        }
        else if (_registration.Exception?.InnerException is SchemaRegistryException refused)
        {
            fatal.Set(new CheckpointWriteException(
                $"the registry refuses the checkpoint schema for subject {statsTopic}-value ({SchemaRegistryErrors.Describe(refused)}); " +
                "checkpoints cannot be written, so the state could not be kept exact", refused));
        }
        else
        {
            Log.CheckpointRegistrationFailed(logger, statsTopic, _registration.Exception?.InnerException?.Message ?? "unknown error");
            _registerAgainAt = time.After(RegistrationRetry);
        }

        _registration = null;
    }

    /// <summary>Starts a checkpoint of the partition, unless one is in flight, a dead letter is pending, or the schema is not registered yet.</summary>
    /// <returns>True when the checkpoint was handed to the producer.</returns>
    public bool TryBegin(PartitionState state, long deadLetterFrontier)
    {
        Prepare();
        if (_schemaId is not { } schemaId || state.Checkpoint.InFlight || state.PendingDeadLetters > 0)
        {
            return false;
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"{_instance}-{++_sequence}");
        var checkpoint = state.Snapshot(group, id, deadLetterFrontier, time.GetUtcNow());
        IReadOnlyList<global::Avro.Generic.GenericRecord> records;
        try
        {
            records = CheckpointCodec.ToRecords(checkpoint, chunkValueBytes);
        }
        catch (CheckpointTooLargeException e)
        {
            // No later checkpoint would fit either: the state could not be kept exact.
            fatal.Set(new CheckpointWriteException(e.Message, e));
            return false;
        }

        var keys = new string[records.Count];
        var inFlight = new Pending(state, checkpoint.NextOffset, state.Version, keys) { Span = StartSpan(checkpoint, records.Count) };
        var partition = new TopicPartition(statsTopic, state.Partition.Partition.Value);
        for (var chunk = 0; chunk < records.Count; chunk++)
        {
            keys[chunk] = CheckpointCodec.KeyFor(group, checkpoint.Partition, id, chunk, records.Count);
            var message = new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(keys[chunk]),
                Value = serde.Serialize(records[chunk], schemaId),
            };
            try
            {
                producer.Produce(partition, message, report => _acks.Enqueue(new Ack(id, report.Error)));
            }
            catch (KafkaException e)
            {
                // Too large or queue full: the whole checkpoint fails and is tried again later.
                _acks.Enqueue(new Ack(id, e.Error));
            }
        }

        _inFlight[id] = inFlight;
        state.Checkpoint.Began();
        return true;
    }

    /// <summary>Settles acknowledgements. Called by the consume loop.</summary>
    /// <returns>Checkpoints completed since the last call of partitions still held by the ownership that wrote them: their partitions may store these offsets.</returns>
    public IReadOnlyList<TopicPartitionOffset> Pump()
    {
        Prepare();
        List<TopicPartitionOffset>? done = null;
        while (_acks.TryDequeue(out var ack))
        {
            if (!_inFlight.TryGetValue(ack.CheckpointId, out var inFlight))
            {
                continue;
            }

            if (ack.Error.IsError)
            {
                inFlight.Failed ??= ack.Error;
            }

            if (++inFlight.Acknowledged < inFlight.Keys.Count)
            {
                continue;
            }

            _inFlight.Remove(ack.CheckpointId);
            var state = inFlight.State;
            ProcessorTracing.Finish(inFlight.Span, inFlight.Failed?.Reason);
            if (inFlight.Failed is { } error)
            {
                // Some of its chunks may be on record: they go with the next checkpoint that is.
                state.Checkpoint.Supersede(inFlight.Keys);
                state.Checkpoint.Ended();
                counters.CheckpointFailed();
                Log.CheckpointFailed(logger, state.Partition.Topic, state.Partition.Partition.Value, error.Reason);
                continue;
            }

            counters.CheckpointWritten();
            DeleteSuperseded(state, inFlight.Keys);
            if (state.Released)
            {
                // Its partition left (and may be held again, restored anew): the offset is not this ownership's to store.
                state.Checkpoint.Ended();
                continue;
            }

            state.Checkpoint.Covered(inFlight.NextOffset, inFlight.Version);
            (done ??= []).Add(new TopicPartitionOffset(state.Partition, inFlight.NextOffset));
        }

        while (_tombstoneFailures.TryDequeue(out var failed))
        {
            // Not a loss, only a record compaction keeps: the next checkpoint of the partition tries again.
            failed.State.Checkpoint.Supersede([failed.Key]);
        }

        return done ?? (IReadOnlyList<TopicPartitionOffset>)[];
    }

    /// <summary>
    /// Tombstones the chunks of the checkpoints the partition's newest one supersedes. Only keys that
    /// name their checkpoint: a chunk of the newest checkpoint, this instance's or another's (a zombie's),
    /// is never among them, since a checkpoint is superseded here only once a newer one is on record.
    /// </summary>
    private void DeleteSuperseded(PartitionState state, IReadOnlyList<string> written)
    {
        var partition = new TopicPartition(statsTopic, state.Partition.Partition.Value);
        foreach (var key in state.Checkpoint.TakeSuperseded().Except(written, StringComparer.Ordinal).Where(CheckpointCodec.IsDeletable))
        {
            try
            {
                producer.Produce(partition, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(key), Value = null }, report =>
                {
                    if (report.Error.IsError)
                    {
                        _tombstoneFailures.Enqueue((state, key));
                    }
                });
            }
            catch (KafkaException)
            {
                _tombstoneFailures.Enqueue((state, key));
            }
        }

        state.Checkpoint.Supersede(written);
    }

    private System.Diagnostics.Activity? StartSpan(PartitionCheckpoint checkpoint, int chunks)
    {
        var span = ProcessorTracing.StartOwn($"checkpoint {statsTopic}", System.Diagnostics.ActivityKind.Producer, statsTopic, "send");
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(MessagingAttributes.PartitionId, checkpoint.Partition.ToString(CultureInfo.InvariantCulture));
            span.SetTag("orders.checkpoint.id", checkpoint.CheckpointId);
            span.SetTag("orders.checkpoint.next_offset", checkpoint.NextOffset);
            span.SetTag("orders.checkpoint.chunks", chunks);
            span.SetTag("orders.checkpoint.orders", checkpoint.Data.Count);
        }

        return span;
    }

    private readonly record struct Ack(string CheckpointId, Error Error);

    private sealed class Pending(PartitionState state, long nextOffset, long version, IReadOnlyList<string> keys)
    {
        public PartitionState State { get; } = state;
        public long NextOffset { get; } = nextOffset;
        public long Version { get; } = version;
        public IReadOnlyList<string> Keys { get; } = keys;
        public int Acknowledged { get; set; }
        public Error? Failed { get; set; }
        public System.Diagnostics.Activity? Span { get; init; }
    }
}

/// <summary>Checkpoints can never be written (the registry refuses their schema, or one cannot fit a record): the processor stops.</summary>
public sealed class CheckpointWriteException(string message, Exception? inner = null) : Exception(message, inner);
