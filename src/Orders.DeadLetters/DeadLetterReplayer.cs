using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;

namespace Orders.DeadLetters;

/// <param name="DelayBetween">A pause after each acknowledged publish (zero: publish all, then wait for every acknowledgement).</param>
public sealed record ReplayOptions(DeadLetterFilter Filter, bool DryRun = false, TimeSpan DelayBetween = default);

/// <summary>A replay run: every selected dead letter with what happened to it.</summary>
/// <param name="InTopic">Letters in the dead-letter topic when the run began.</param>
/// <param name="Scanned">Records read from original partitions to find earlier replays: the run's cost.</param>
public sealed record ReplayReport(string DeadLetterTopic, int InTopic, IReadOnlyList<ReplayDecision> Decisions, long Scanned, bool DryRun)
{
    public int Selected => Decisions.Count;

    public int Count(ReplayOutcome outcome) => Decisions.Count(d => d.Outcome == outcome);
}

/// <summary>
/// Republishes dead letters to the partition they came from, each original record once, with no reliance
/// on transactions (the local stack's mock ignores them). Before publishing it reads each original
/// partition from just after its lowest candidate's offset to the end, looking for the
/// <see cref="ReplayHeaders"/> of earlier replays, and skips what was replayed already; then it publishes
/// with an idempotent producer and waits for every acknowledgement. A run killed at any point leaves
/// behind only acknowledged-or-not copies, which the next run's scan finds. Two replays running at the
/// same time can both miss each other's copies: run one at a time (docs/DEAD-LETTERS.md).
/// </summary>
public sealed class DeadLetterReplayer(TopicReader reader, ProducerConfig producerConfig, TimeProvider time, ILogger logger)
{
    /// <param name="progress">Called once for each letter as its outcome becomes final (a replay when acknowledged).</param>
    /// <exception cref="DeadLetterTopicNotFoundException">The dead-letter topic does not exist.</exception>
    /// <exception cref="TopicReadException">A read could not finish.</exception>
    /// <exception cref="KafkaConfigurationException">librdkafka rejected a producer setting.</exception>
    public async Task<ReplayReport> RunAsync(DeadLetterQueue queue, ReplayOptions options, Action<ReplayDecision> progress, CancellationToken cancellationToken)
    {
        var inTopic = 0;
        var selected = new List<DeadLetter>();
        foreach (var letter in queue.ReadAll(cancellationToken))
        {
            inTopic++;
            if (options.Filter.Matches(letter))
            {
                selected.Add(letter);
            }
        }

        var (unreplayable, groups) = ReplayPlanner.Group(selected, queue.SourceTopic);
        var targets = new Dictionary<string, IReadOnlyList<int>?>(StringComparer.Ordinal);
        foreach (var topic in groups.Select(g => g.Original.Topic).Distinct())
        {
            targets[topic] = reader.Partitions(topic);
        }

        string? TargetProblem(string topic, int partition) => targets[topic] switch
        {
            null => $"original topic {topic} does not exist (deleted since, or the letter's origin header is wrong)",
            var partitions when !partitions.Contains(partition) => $"original partition {topic}[{partition}] does not exist ({topic} has {partitions.Count}; recreated with fewer, or the letter's origin header is wrong)",
            _ => null,
        };

        var scanned = 0L;
        var histories = new Dictionary<(string Topic, int Partition), ReplayHistory>();
        var starts = ReplayPlanner.ScanStarts(groups.Where(g => TargetProblem(g.Original.Topic, g.Original.Partition) is null));
        // One read per topic, all its partitions at once: the fetches of a partition overlap with the others'.
        foreach (var topic in starts.GroupBy(s => s.Key.Topic, StringComparer.Ordinal))
        {
            var ranges = new List<PartitionRange>();
            foreach (var ((_, partition), start) in topic)
            {
                var range = reader.Range(topic.Key, partition);
                var history = new ReplayHistory(topic.Key, partition, Math.Max(start, range.Low), range.High);
                histories[(topic.Key, partition)] = history;
                ranges.Add(range with { Low = history.CompleteFrom });
                Log.Scanning(logger, topic.Key, partition, history.CompleteFrom, range.High);
            }

            foreach (var record in reader.ReadHeaders(topic.Key, ranges, cancellationToken))
            {
                scanned++;
                if (record.Message.Headers is { Count: > 0 } headers)
                {
                    histories[(topic.Key, record.Partition.Value)].Record(
                        record.Offset.Value, Text(headers, ReplayHeaders.ReplayedFrom), Text(headers, ReplayHeaders.ReplayedOrigin));
                }
            }
        }

        // A truncated letter lacks its value: its record is read from the original, while retention keeps it. Read here
        // to decide (and to size the producer), then again as it is published: only one is held at a time.
        var largestOriginal = 0L;
        var decided = ReplayPlanner.Decide(groups, TargetProblem, histories)
            .Select(d => d.Outcome == ReplayOutcome.Replay && d.Letter.Truncated is not null ? ReadOriginal(d, out _, cancellationToken, m => largestOriginal = Math.Max(largestOriginal, Size(m))) : d);

        // What is reported, and not published, keeps the letter's summary only; the letters to publish keep their records.
        var reported = new List<ReplayDecision>(unreplayable.Select(d => d with { Letter = d.Letter.Summary() }));
        var toReplay = new Queue<ReplayDecision>();
        foreach (var decision in decided)
        {
            if (decision.Outcome == ReplayOutcome.Replay)
            {
                toReplay.Enqueue(decision);
            }
            else
            {
                reported.Add(decision with { Letter = decision.Letter.Summary() });
            }
        }

        foreach (var decision in reported)
        {
            if (decision.Outcome == ReplayOutcome.Skipped)
            {
                Log.Skipped(logger, decision.Letter.Position.ToString(), decision.Detail ?? "");
            }

            progress(decision);
        }

        if (options.DryRun)
        {
            var planned = toReplay.Select(d => d with { Letter = d.Letter.Summary() }).ToList();
            planned.ForEach(progress);
            return new ReplayReport(queue.Topic, inTopic, [.. reported, .. planned], scanned, DryRun: true);
        }

        reported.AddRange(await PublishAsync(toReplay, largestOriginal, options.DelayBetween, progress, cancellationToken));
        return new ReplayReport(queue.Topic, inTopic, reported, scanned, DryRun: false);
    }

    /// <summary>
    /// For a letter cut to fit the dead-letter topic, the original record it names, read from its
    /// partition: that record is what a replay publishes. It must be the record that failed (the key the
    /// letter kept, the timestamp its header gives), not one of a topic recreated since.
    /// </summary>
    /// <returns>
    /// The decision; or a skip that says why the original cannot stand in for the letter (it is gone, or
    /// is another record); or a failure when it could not be read (the cluster did not answer: a rerun may).
    /// </returns>
    /// <param name="message">The original record, when the decision stays a replay.</param>
    /// <param name="read">Told of the record read, when it stands in for the letter.</param>
    internal ReplayDecision ReadOriginal(
        ReplayDecision decision, out Message<byte[]?, byte[]?>? message, CancellationToken cancellationToken, Action<Message<byte[]?, byte[]?>>? read = null)
    {
        message = null;
        var letter = decision.Letter;
        System.Diagnostics.Debug.Assert(!letter.IsSummary, "a summary has no key to check the original by");
        var original = letter.Original!.Value;
        const string Why = "the letter was truncated (its value was not kept)";
        ConsumeResult<byte[]?, byte[]?>? record = null;
        try
        {
            if (reader.Range(original.Topic, original.Partition).Contains(original.Offset))
            {
                record = reader.Read(original.Topic, [new PartitionRange(original.Partition, original.Offset, original.Offset + 1)], cancellationToken).FirstOrDefault();
            }
        }
        catch (TopicReadException e)
        {
            // Not the letter's fault, nor for good: failed, so the run says so in its exit code and a rerun tries again.
            return decision with { Outcome = ReplayOutcome.Failed, Detail = $"{Why}, and its original {original} could not be read ({e.Message}); a rerun tries again" };
        }

        if (record is null || record.Offset.Value != original.Offset)
        {
            return Skip($"{Why}, and {original.Topic}[{original.Partition}] no longer holds its original at offset {original.Offset}");
        }

        if ((letter.Key is not null && !letter.Key.AsSpan().SequenceEqual(record.Message.Key)) ||
            (letter.OriginalTimestamp is { } at && at.ToUnixTimeMilliseconds() != record.Message.Timestamp.UnixTimestampMs))
        {
            return Skip($"{Why}, and the record at {original} is not the one that failed (its key or timestamp differs: was the topic recreated?)");
        }

        message = record.Message;
        read?.Invoke(message);
        return decision;

        ReplayDecision Skip(string why) => decision with { Outcome = ReplayOutcome.Skipped, Detail = why };
    }

    /// <param name="toReplay">Taken from as they are published, so that a letter's record is not held past its acknowledgement.</param>
    /// <param name="largestOriginal">The largest original record a truncated letter is replayed from, in bytes (0 for none).</param>
    private async Task<List<ReplayDecision>> PublishAsync(
        Queue<ReplayDecision> toReplay,
        long largestOriginal,
        TimeSpan delayBetween,
        Action<ReplayDecision> progress,
        CancellationToken cancellationToken)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(producerConfig))
        {
            // Retries after a lost acknowledgement must not write a second copy.
            EnableIdempotence = true,
            Acks = Acks.All,
            // A replay goes only where the record was; never create a topic by writing to it.
            AllowAutoCreateTopics = false,
        };
        config.SetDefault("message.timeout.ms", "30000");
        // A delivery's report says where the copy landed, nothing more: with the default (all) every report, kept
        // in flight until the end, would hold its record's key, value and headers.
        config.Set("dotnet.producer.delivery.report.fields", "none");
        // A truncated letter's original can be larger than librdkafka's limit (1,000,000 bytes): its partition
        // took it once, so the producer lets it through too, unless set otherwise; the broker's limit still holds.
        if (config.MessageMaxBytes is null && largestOriginal + RecordOverhead is var largest && largest > LibrdkafkaDefaults.MessageMaxBytes)
        {
            config.MessageMaxBytes = (int)Math.Min(largest, int.MaxValue);
        }

        using var producer = new ProducerBuilder<byte[]?, byte[]?>(config)
            .LogTo(logger)
            .SetErrorHandler((_, e) => Log.KafkaError(logger, e.Code, e.Reason))
            .BuildChecked();

        var results = new List<ReplayDecision>(toReplay.Count);
        var inFlight = new List<(ReplayDecision Decision, Task<DeliveryResult<byte[]?, byte[]?>> Delivery, System.Diagnostics.Activity? Span)>();
        while (toReplay.TryDequeue(out var decision))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                var interrupted = decision with { Letter = decision.Letter.Summary(), Outcome = ReplayOutcome.Interrupted, Detail = "not published: the run was cancelled" };
                results.Add(interrupted);
                progress(interrupted);
                continue;
            }

            Message<byte[]?, byte[]?>? originalRecord = null;
            if (decision.Letter.Truncated is not null)
            {
                ReplayDecision read;
                try
                {
                    read = ReadOriginal(decision, out originalRecord, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopped while its original was read: not published, and the letters after it neither (the loop's first check).
                    read = decision with { Outcome = ReplayOutcome.Interrupted, Detail = "not published: the run was cancelled" };
                }

                if (read.Outcome != ReplayOutcome.Replay)
                {
                    // Read when planned, and gone or unreadable now (retention, the cluster away), or the run stopped.
                    var result = read with { Letter = decision.Letter.Summary() };
                    results.Add(result);
                    progress(result);
                    continue;
                }
            }

            var original = decision.Letter.Original!.Value;
            // Not cancellable once handed over: a record in flight is waited for, so the report says what landed.
            var message = Copy(decision.Letter, originalRecord);
            var span = ReplayTracing.StartReplay(decision.Letter, original, message);
            var target = new TopicPartition(original.Topic, original.Partition);
            var delivery = producer.ProduceAsync(target, message, CancellationToken.None);
            while (IsQueueFull(delivery) && inFlight.Count > 0)
            {
                // More letters than the client's queue holds (queue.buffering.max.messages or .kbytes): wait
                // for those in flight, then hand this one over again.
                await CompleteAsync(inFlight, results, progress);
                delivery = producer.ProduceAsync(target, message, CancellationToken.None);
            }

            // From here the client holds the record: the report keeps the letter's summary.
            inFlight.Add((decision with { Letter = decision.Letter.Summary() }, delivery, span));
            if (delayBetween > TimeSpan.Zero)
            {
                await CompleteAsync(inFlight, results, progress);
                try
                {
                    await Task.Delay(delayBetween, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // The loop marks the rest interrupted.
                }
            }
        }

        await CompleteAsync(inFlight, results, progress);
        return results;
    }

    /// <summary>Refused at once because the client's queue is full (observed, so the refusal is not reported as unobserved).</summary>
    private static bool IsQueueFull(Task<DeliveryResult<byte[]?, byte[]?>> delivery) =>
        delivery.IsFaulted && delivery.Exception.InnerException is ProduceException<byte[]?, byte[]?> { Error.Code: ErrorCode.Local_QueueFull };

    private async Task CompleteAsync(
        List<(ReplayDecision Decision, Task<DeliveryResult<byte[]?, byte[]?>> Delivery, System.Diagnostics.Activity? Span)> inFlight, List<ReplayDecision> results, Action<ReplayDecision> progress)
    {
        foreach (var (decision, delivery, span) in inFlight)
        {
            ReplayDecision result;
            try
            {
                var report = await delivery;
                var at = new RecordPosition(report.Topic, report.Partition.Value, report.Offset.Value);
                result = decision with { Outcome = ReplayOutcome.Replayed, Detail = $"replayed as {at}", ReplayedAs = at };
                ReplayTracing.Delivered(span, at, null);
                Log.Replayed(logger, decision.Letter.Position.ToString(), at.ToString());
            }
            catch (ProduceException<byte[]?, byte[]?> e)
            {
                result = decision with { Outcome = ReplayOutcome.Failed, Detail = $"not acknowledged ({e.Error.Reason}); a rerun finds out whether it landed" };
                ReplayTracing.Delivered(span, null, e.Error.Reason);
                Log.PublishFailed(logger, decision.Letter.Position.ToString(), e.Error.Reason);
            }

            results.Add(result);
            progress(result);
        }

        inFlight.Clear();
    }

    /// <summary>The original record again: key, value and headers, minus the dead letter's diagnostics, plus where it came from.</summary>
    /// <param name="letter">The letter replayed.</param>
    /// <param name="original">The original record as its partition holds it, for a letter that was truncated; else null (the letter has it all).</param>
    public static Message<byte[]?, byte[]?> Copy(DeadLetter letter, Message<byte[]?, byte[]?>? original = null)
    {
        System.Diagnostics.Debug.Assert(!letter.IsSummary, "a summary has no record to copy");
        var headers = new Headers();
        var kept = original is null
            ? letter.Headers.Select(h => (h.Key, h.Value))
            : original.Headers?.Select(h => (h.Key, Value: (byte[]?)h.GetValueBytes())) ?? [];
        foreach (var (key, value) in kept)
        {
            if (!key.StartsWith("dlq.", StringComparison.Ordinal))
            {
                headers.Add(key, value);
            }
        }

        headers.Add(ReplayHeaders.ReplayedFrom, Encoding.UTF8.GetBytes(letter.Position.ToString()));
        headers.Add(ReplayHeaders.ReplayedOrigin, Encoding.UTF8.GetBytes(letter.Original!.Value.ToString()));
        return original is null
            ? new Message<byte[]?, byte[]?> { Key = letter.Key, Value = letter.Value, Headers = headers }
            : new Message<byte[]?, byte[]?> { Key = original.Key, Value = original.Value, Headers = headers };
    }

    /// <summary>Room for a record's framing and the replay's own headers.</summary>
    private const long RecordOverhead = 64 * 1024;

    private static long Size(Message<byte[]?, byte[]?> message) =>
        (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0) + (message.Headers?.Sum(h => (long)h.Key.Length + (h.GetValueBytes()?.Length ?? 0)) ?? 0);

    private static string? Text(Headers headers, string key) =>
        headers.TryGetLastBytes(key, out var bytes) ? RecordHeader.Decode(bytes) : null;
}
