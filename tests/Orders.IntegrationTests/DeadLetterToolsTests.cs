using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Orders.Cli;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// <c>orders dlq list|show|replay</c> on dead letters the real processor made, on the local stack.
/// Records are read back here with a plain Confluent.Kafka consumer, not with the code under test.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DeadLetterToolsTests(StackFixture fixture)
{
    private const string ReplayedFrom = "dlq.replayed.from";

    [Fact]
    public async Task List_EveryLetterTheProcessorMade_WithItsOrigin_FilteredByReasonAndSince()
    {
        var topic = CreateTopics("dlq-list");
        var group = StackFixture.Unique("dlq-list");
        await ProduceRawAsync(topic, ("poison-0", [0x01, 0x00, 0x00, 0x00, 0x01]), ("poison-1", [0x00]), ("poison-2", Encoding.UTF8.GetBytes("not avro")));
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "40", "--invalid-ratio", "0.25", "--seed", "5"]);
        var invalid = produced.GetProperty("invalid").GetInt32();
        await FailEverythingAsync(topic, group);
        // Milliseconds, as dlq.failed.at has: every letter of the second run is at or after this.
        var between = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "5", "--seed", "6"]);
        await FailEverythingAsync(topic, group);

        var all = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic)]);

        Assert.Equal(48, all.GetProperty("total").GetInt32());
        var letters = all.GetProperty("letters").EnumerateArray().ToList();
        Assert.Equal(48, letters.Count);
        var byReason = letters.GroupBy(l => l.GetProperty("reason").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["poison"] = 3, ["invalid"] = invalid, ["retries-exhausted"] = 45 - invalid }, byReason);
        // Everything failed, so the origins are exactly the records of the topic.
        Assert.Equal(
            ReadTopic(topic, 3).Select(r => $"{topic}/{r.Partition.Value}@{r.Offset.Value}").Order(),
            letters.Select(l => l.GetProperty("original")).Select(o => $"{o.GetProperty("topic").GetString()}/{o.GetProperty("partition").GetInt32()}@{o.GetProperty("offset").GetInt64()}").Order());
        Assert.All(letters, l =>
        {
            Assert.Equal(group, l.GetProperty("consumerGroup").GetString());
            Assert.InRange(l.GetProperty("ageSeconds").GetDouble(), 0, 600);
            Assert.Equal($"{Topics.DeadLetterFor(topic)}/{l.GetProperty("partition").GetInt32()}@{l.GetProperty("offset").GetInt64()}", l.GetProperty("letter").GetString());
            Assert.False(string.IsNullOrEmpty(l.GetProperty("error").GetString()));
        });
        Assert.All(letters.Where(l => l.GetProperty("reason").GetString() == "retries-exhausted"), l =>
        {
            Assert.Equal("Orders.Processor.SimulatedTransientException", l.GetProperty("errorType").GetString());
            Assert.Equal(1, l.GetProperty("attempts").GetInt32());
        });

        var poison = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic), "--reason", "poison"]);
        Assert.Equal(3, poison.GetProperty("count").GetInt32());
        Assert.All(poison.GetProperty("letters").EnumerateArray(), l => Assert.Equal("poison", l.GetProperty("reason").GetString()));

        var since = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic), "--since", between.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)]);
        Assert.Equal(5, since.GetProperty("count").GetInt32());
        Assert.All(since.GetProperty("letters").EnumerateArray(), l => Assert.Equal("retries-exhausted", l.GetProperty("reason").GetString()));

        var lastHour = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic), "--since", "1h"]);
        Assert.Equal(48, lastHour.GetProperty("count").GetInt32());
        var both = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic), "--since", "1h", "--reason", "invalid"]);
        Assert.Equal(invalid, both.GetProperty("count").GetInt32());

        var text = await RunAsync(["dlq", "list", .. Endpoints(topic), "--reason", "poison"]);
        Assert.Equal(0, text.Exit);
        var lines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{Topics.DeadLetterFor(topic)}: 3 of 48 dead letter(s) (reason poison)", lines[0]);
        Assert.StartsWith("LETTER", lines[1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Skip(2).Count(l => l.Contains(" poison ", StringComparison.Ordinal) && l.Contains($" {topic}/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Show_EveryHeader_AndTheOrderDecoded_OrAHexDumpWhenItIsPoison()
    {
        var topic = CreateTopics("dlq-show", dlqPartitions: 1);
        byte[] poisonBytes = [0x01, 0x00, 0x00, 0x00, 0x01, 0x41];
        await ProduceRawAsync(topic, ("poison-0", poisonBytes));
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "3", "--invalid-ratio", "1"]);
        await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("dlq-show"), "--until-idle", "3"]);
        var raw = ReadTopic(Topics.DeadLetterFor(topic), 1);
        Assert.Equal(4, raw.Count);
        var poisonLetter = raw.Single(r => Header(r, DeadLetterHeaders.Reason) == "poison");
        var invalidLetter = raw.First(r => Header(r, DeadLetterHeaders.Reason) == "invalid");

        var shown = await OrdersCommand.RunJsonAsync(["dlq", "show", .. Endpoints(topic), $"0:{invalidLetter.Offset.Value}"]);

        Assert.Equal(
            invalidLetter.Message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))),
            shown.GetProperty("headers").EnumerateArray().Select(h => (h.GetProperty("key").GetString()!, h.GetProperty("value").GetString()!)));
        Assert.Equal(Encoding.UTF8.GetString(invalidLetter.Message.Key!), shown.GetProperty("order").GetProperty("orderId").GetString());
        Assert.Equal(Header(invalidLetter, DeadLetterHeaders.ErrorMessage), shown.GetProperty("invalid").GetString());
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("decodeError").ValueKind);
        Assert.Equal(Convert.ToHexString(invalidLetter.Message.Value!), shown.GetProperty("valueHex").GetString());

        // One partition holds every offset, so a bare offset is enough.
        var poison = await OrdersCommand.RunJsonAsync(["dlq", "show", .. Endpoints(topic), poisonLetter.Offset.Value.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(JsonValueKind.Null, poison.GetProperty("order").ValueKind);
        Assert.Contains("magic byte", poison.GetProperty("decodeError").GetString(), StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexString(poisonBytes), poison.GetProperty("valueHex").GetString());
        Assert.Equal("poison-0", poison.GetProperty("key").GetString());

        var text = await RunAsync(["dlq", "show", .. Endpoints(topic), $"0:{poisonLetter.Offset.Value}"]);
        Assert.Equal(0, text.Exit);
        Assert.Contains("00000000  01 00 00 00 01 41", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("|.....A|", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("dlq.error.stacktrace", text.Stdout, StringComparison.Ordinal);

        var missing = await RunAsync(["dlq", "show", .. Endpoints(topic), "0:999"]);
        Assert.Equal(OrdersCli.ExitUsage, missing.Exit);
        Assert.Equal($"orders: {Topics.DeadLetterFor(topic)} partition 0 holds offsets 0 to 3, not offset 999", missing.Stderr.Trim());
    }

    [Fact]
    public async Task Show_ABareOffsetThatSeveralPartitionsHold_AsksForPartitionColonOffset()
    {
        var topic = CreateTopics("dlq-ambiguous");
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "30", "--invalid-ratio", "1"]);
        await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("dlq-ambiguous"), "--until-idle", "3"]);
        var holding = ReadTopic(Topics.DeadLetterFor(topic), 3).Where(r => r.Offset.Value == 0).Select(r => r.Partition.Value).Order().ToList();
        Assert.True(holding.Count > 1, "30 letters should fill more than one partition");

        var result = await RunAsync(["dlq", "show", .. Endpoints(topic), "0"]);

        Assert.Equal(OrdersCli.ExitUsage, result.Exit);
        Assert.Equal(
            $"orders: offset 0 is in partitions {string.Join(", ", holding)} of {Topics.DeadLetterFor(topic)}: give PARTITION:OFFSET, e.g. {holding[0]}:0",
            result.Stderr.Trim());
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Replay_AfterTheCauseIsFixed_EachLetterIsProcessedOnce_AndASecondReplayReplaysNothing()
    {
        var topic = CreateTopics("dlq-replay");
        var group = StackFixture.Unique("dlq-replay");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "30", "--invalid-ratio", "0.2", "--seed", "8"]);
        var invalid = produced.GetProperty("invalid").GetInt32();
        var exhausted = 30 - invalid;
        await FailEverythingAsync(topic, group);

        var dry = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "retries-exhausted", "--dry-run"]);
        Assert.Equal((exhausted, 0, true), (dry.GetProperty("wouldReplay").GetInt32(), dry.GetProperty("replayed").GetInt32(), dry.GetProperty("dryRun").GetBoolean()));
        Assert.Equal(30, ReadTopic(topic, 3).Count);

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "retries-exhausted"]);
        Assert.Equal(
            (exhausted, 0, 0, 0, 0, exhausted),
            (Count(replay, "replayed"), Count(replay, "skipped"), Count(replay, "alreadyReplayed"), Count(replay, "duplicates"), Count(replay, "failed"), Count(replay, "selected")));

        // The cause is fixed: the processor, resuming its group, processes each replayed order once.
        var fixedRun = await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3", "--fail-ratio", "0"]);
        Assert.Equal(exhausted, fixedRun.GetProperty("processed").GetInt32());
        Assert.Equal(0, fixedRun.GetProperty("deadLettered").GetProperty("total").GetInt32());

        var again = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "retries-exhausted"]);
        Assert.Equal((0, exhausted), (Count(again, "replayed"), Count(again, "alreadyReplayed")));
        Assert.All(again.GetProperty("letters").EnumerateArray(), l => Assert.Equal("already-replayed", l.GetProperty("outcome").GetString()));

        var letters = ReadTopic(Topics.DeadLetterFor(topic), 3);
        var replays = ReplaysPerLetter(topic);
        Assert.All(letters, l => Assert.Equal(
            Header(l, DeadLetterHeaders.Reason) == "retries-exhausted" ? 1 : 0,
            replays.GetValueOrDefault($"{Topics.DeadLetterFor(topic)}/{l.Partition.Value}@{l.Offset.Value}")));
        Assert.Equal(exhausted, replays.Values.Sum());
    }

    [Fact]
    public async Task Replay_KilledHalfway_ThenRunAgain_ReplaysEachLetterExactlyOnce()
    {
        var topic = CreateTopics("dlq-kill");
        var group = StackFixture.Unique("dlq-kill");
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "20", "--seed", "9"]);
        await FailEverythingAsync(topic, group);

        // A replay that waits 500 ms after each acknowledged copy, SIGKILLed after its fifth.
        using (var first = OrdersProcess.Start(["dlq", "replay", .. Endpoints(topic), "--replay-delay-ms", "500"]))
        {
            _ = first.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var acknowledged = 0;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            while (acknowledged < 5 && await first.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                acknowledged += line.StartsWith("replayed ", StringComparison.Ordinal) ? 1 : 0;
            }

            first.Kill();
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(5, acknowledged);
        }

        var rerun = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);

        Assert.True(Count(rerun, "replayed") > 0, "the first run finished before it was killed");
        Assert.InRange(Count(rerun, "alreadyReplayed"), 5, 19);
        Assert.Equal(20, Count(rerun, "replayed") + Count(rerun, "alreadyReplayed"));
        var replays = ReplaysPerLetter(topic);
        Assert.Equal(20, replays.Count);
        Assert.All(replays, r => Assert.Equal(1, r.Value));
        var letters = ReadTopic(Topics.DeadLetterFor(topic), 3).Select(l => $"{Topics.DeadLetterFor(topic)}/{l.Partition.Value}@{l.Offset.Value}");
        Assert.Equal(letters.Order(), replays.Keys.Order());

        var fixedRun = await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3", "--fail-ratio", "0"]);
        Assert.Equal(20, fixedRun.GetProperty("processed").GetInt32());
    }

    [Fact]
    public async Task Replay_DuplicateLettersReplayOnce_AndLettersWithNowhereToGoAreReportedAndSkipped()
    {
        var topic = CreateTopics("dlq-odd");
        var dlq = Topics.DeadLetterFor(topic);
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "2", "--seed", "10"]);
        await FailEverythingAsync(topic, StackFixture.Unique("dlq-odd"));
        var made = ReadTopic(dlq, 3);
        Assert.Equal(2, made.Count);
        var gone = StackFixture.Unique("gone");
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(fixture.ProducerConfig()).Build())
        {
            // A dead-letter write that timed out but landed: the same letter twice.
            await producer.ProduceAsync(dlq, made[0].Message, TestContext.Current.CancellationToken);
            await producer.ProduceAsync(dlq, WithHeader(made[1].Message, DeadLetterHeaders.OriginalPartition, "7"), TestContext.Current.CancellationToken);
            await producer.ProduceAsync(dlq, WithHeader(made[1].Message, DeadLetterHeaders.OriginalTopic, gone), TestContext.Current.CancellationToken);
            await producer.ProduceAsync(dlq, new Message<byte[]?, byte[]?> { Key = null, Value = [1, 2, 3] }, TestContext.Current.CancellationToken);
        }

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);

        Assert.Equal((2, 1, 3, 0, 6), (Count(replay, "replayed"), Count(replay, "duplicates"), Count(replay, "skipped"), Count(replay, "alreadyReplayed"), Count(replay, "selected")));
        var skipped = replay.GetProperty("letters").EnumerateArray().Where(l => l.GetProperty("outcome").GetString() == "skipped").Select(l => l.GetProperty("detail").GetString()!).Order().ToList();
        Assert.Equal(
            new[]
            {
                "no original record to replay to: no dlq.original.topic, dlq.original.partition, dlq.original.offset header",
                $"original partition {topic}[7] does not exist ({topic} has 3; recreated with fewer, or the letter's origin header is wrong)",
                $"its origin {gone}/{Header(made[1], DeadLetterHeaders.OriginalPartition)}@{Header(made[1], DeadLetterHeaders.OriginalOffset)} is not in {topic}, whose dead letters these are: a replay writes only to {topic}",
            }.Order(),
            skipped);
        Assert.Null(TopicPartitions(gone));

        var again = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);
        Assert.Equal((0, 1, 3, 2), (Count(again, "replayed"), Count(again, "duplicates"), Count(again, "skipped"), Count(again, "alreadyReplayed")));
        var origins = ReadTopic(topic, 3).Where(r => r.Message.Headers.TryGetLastBytes(ReplayedFrom, out _)).Select(r => Header(r, "dlq.replayed.origin")).ToList();
        Assert.Equal(made.Select(m => $"{topic}/{Header(m, DeadLetterHeaders.OriginalPartition)}@{Header(m, DeadLetterHeaders.OriginalOffset)}").Order(), origins.Order());
    }

    [Fact]
    public async Task Replay_WhereRetentionRemovedWhereAnEarlierCopyWouldBe_SkipsRatherThanRiskASecondCopy()
    {
        var topic = fixture.CreateTopic("dlq-retention", partitions: 1);
        fixture.Stack.Kafka.Cluster.CreateTopic(Topics.DeadLetterFor(topic), 1, replicationFactor: 2);
        StackFixture.CreateStatsTopic(fixture.Stack.Kafka, topic, 1, replicationFactor: 2);
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "10", "--seed", "12"]);
        await FailEverythingAsync(topic, StackFixture.Unique("dlq-retention"));

        // Offsets 0 to 4 are gone: a copy of the record at 0 to 3 could have been at 1 to 4.
        fixture.Stack.Kafka.Cluster.DeleteRecords(topic, 0, 5);
        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);

        var outcomes = replay.GetProperty("letters").EnumerateArray()
            .ToDictionary(l => l.GetProperty("original").GetString()!, l => (Outcome: l.GetProperty("outcome").GetString(), Detail: l.GetProperty("detail").GetString()));
        Assert.Equal((6, 4), (Count(replay, "replayed"), Count(replay, "skipped")));
        Assert.All(Enumerable.Range(0, 4), o =>
        {
            Assert.Equal("skipped", outcomes[$"{topic}/0@{o}"].Outcome);
            Assert.Contains($"no longer holds offsets {o + 1} to 4 (retention)", outcomes[$"{topic}/0@{o}"].Detail, StringComparison.Ordinal);
        });
        Assert.All(Enumerable.Range(4, 6), o => Assert.Equal("replayed", outcomes[$"{topic}/0@{o}"].Outcome));
    }

    [Fact]
    public async Task Replay_ACopyIsTheOriginalRecord_InItsOriginalPartition_WithItsHeadersButNoDiagnostics()
    {
        var topic = CreateTopics("dlq-copy");
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(fixture.ProducerConfig()).Build())
        {
            var message = new Message<byte[]?, byte[]?> { Key = [0x6b], Value = [0x00, 0x7f, 0xff, 0xff, 0xf0, 0x02], Headers = new Headers { { "trace-id", [0x74] } } };
            await producer.ProduceAsync(new TopicPartition(topic, 2), message, TestContext.Current.CancellationToken);
        }

        await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("dlq-copy"), "--until-idle", "3"]);
        var letter = Assert.Single(ReadTopic(Topics.DeadLetterFor(topic), 3));

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "poison"]);

        var records = ReadTopic(topic, 3);
        Assert.Equal(1, Count(replay, "replayed"));
        var copy = Assert.Single(records, r => r.Offset.Value == 1);
        Assert.Equal(2, copy.Partition.Value);
        Assert.Equal($"{topic}/2@1", replay.GetProperty("letters")[0].GetProperty("replayedAs").GetString());
        Assert.Equal(records[0].Message.Key, copy.Message.Key);
        Assert.Equal(records[0].Message.Value, copy.Message.Value);
        Assert.Equal(
            [("trace-id", "t"), (ReplayedFrom, $"{Topics.DeadLetterFor(topic)}/{letter.Partition.Value}@{letter.Offset.Value}"), ("dlq.replayed.origin", $"{topic}/2@0")],
            copy.Message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))));
    }

    [Fact]
    public async Task Replay_ATruncatedLetter_RepublishesItsOriginalRecordWhole_OrSaysWhyNotOnceRetentionRemovedIt()
    {
        var topic = CreateTopics("dlq-truncated");
        // Poison (no magic byte 0) and larger than the dead-letter topic takes: its letter is cut to its diagnostics.
        var huge = new byte[1_500_000];
        huge[0] = 1;
        huge[^1] = 42;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig(fixture.ProducerConfig()) { MessageMaxBytes = 2_000_000 }).Build())
        {
            var message = new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes("huge"), Value = huge, Headers = new Headers { { "trace-id", [0x74] } } };
            await producer.ProduceAsync(new TopicPartition(topic, 1), message, TestContext.Current.CancellationToken);
            await producer.ProduceAsync(new TopicPartition(topic, 2), message, TestContext.Current.CancellationToken);
        }

        await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("dlq-truncated"), "--until-idle", "3"]);
        Assert.All(ReadTopic(Topics.DeadLetterFor(topic), 3), l => Assert.Null(l.Message.Value));
        var listed = await OrdersCommand.RunJsonAsync(["dlq", "list", .. Endpoints(topic)]);
        Assert.All(listed.GetProperty("letters").EnumerateArray(), l => Assert.Contains("value (1500000 bytes)", l.GetProperty("truncated").GetString(), StringComparison.Ordinal));
        // Partition 2's original is gone.
        fixture.Stack.Kafka.Cluster.DeleteRecords(topic, 2, 1);

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "poison"]);

        Assert.Equal((1, 1), (Count(replay, "replayed"), Count(replay, "skipped")));
        var skipped = replay.GetProperty("letters").EnumerateArray().Single(l => l.GetProperty("outcome").GetString() == "skipped");
        Assert.Equal(
            $"the letter was truncated (its value was not kept), and {topic}[2] no longer holds its original at offset 0",
            skipped.GetProperty("detail").GetString());
        var copy = Assert.Single(ReadTopic(topic, 3), r => r.Partition.Value == 1 && r.Offset.Value == 1);
        Assert.Equal("huge", Encoding.UTF8.GetString(copy.Message.Key!));
        Assert.Equal(huge, copy.Message.Value);
        Assert.Equal(["trace-id", ReplayedFrom, "dlq.replayed.origin"], copy.Message.Headers.Select(h => h.Key));
        var again = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "poison"]);
        Assert.Equal((0, 1, 1), (Count(again, "replayed"), Count(again, "alreadyReplayed"), Count(again, "skipped")));
    }

    [Fact]
    public async Task Replay_MoreLettersThanTheProducersQueueHolds_WaitsForDeliveries_AndReplaysThemAll()
    {
        var topic = CreateTopics("dlq-queue");
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "20", "--seed", "13"]);
        await FailEverythingAsync(topic, StackFixture.Unique("dlq-queue"));
        var settings = Path.Combine(Path.GetTempPath(), $"{StackFixture.Unique("dlq-queue")}.json");
        await File.WriteAllTextAsync(settings, """{ "Kafka": { "queue.buffering.max.messages": "5" } }""", TestContext.Current.CancellationToken);
        try
        {
            // Before: the 6th letter onwards failed at once ("Local: Queue full"), exit 1.
            var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", "--config", settings, .. Endpoints(topic)]);

            Assert.Equal((20, 0), (Count(replay, "replayed"), Count(replay, "failed")));
            Assert.All(ReplaysPerLetter(topic), r => Assert.Equal(1, r.Value));
        }
        finally
        {
            File.Delete(settings);
        }
    }

    [Fact]
    public async Task Replay_AfterTheDeadLetterTopicWasRecreated_ItsNewLettersAreReplayed_NotTakenForTheOldOnesOfTheSamePositions()
    {
        var topic = CreateTopics("dlq-purged");
        var dlq = Topics.DeadLetterFor(topic);
        var group = StackFixture.Unique("dlq-purged");
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "20", "--seed", "14"]);
        await FailEverythingAsync(topic, group);
        Assert.Equal(20, Count(await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]), "replayed"));

        // Purged by recreating it; the copies then fail as well, and their letters take the old letters' positions.
        Assert.Equal(ErrorCode.NoError, fixture.Stack.Kafka.Cluster.TryDeleteTopic(dlq));
        fixture.Stack.Kafka.Cluster.CreateTopic(dlq, 3, replicationFactor: 2);
        await FailEverythingAsync(topic, group);
        var letters = ReadTopic(dlq, 3);
        Assert.Equal(20, letters.Count);

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);

        Assert.Equal((20, 0), (Count(replay, "replayed"), Count(replay, "alreadyReplayed")));
        var again = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);
        Assert.Equal((0, 20), (Count(again, "replayed"), Count(again, "alreadyReplayed")));
    }

    [Fact]
    public async Task Replay_ALetterWhoseOriginalOffsetIsPastItsPartitionsEnd_IsSkipped_SoNoRunCopiesItTwice()
    {
        var topic = CreateTopics("dlq-past");
        var dlq = Topics.DeadLetterFor(topic);
        await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "1", "--seed", "15"]);
        await FailEverythingAsync(topic, StackFixture.Unique("dlq-past"));
        var made = Assert.Single(ReadTopic(dlq, 3));
        var partition = Header(made, DeadLetterHeaders.OriginalPartition)!;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(fixture.ProducerConfig()).Build())
        {
            // A letter of a topic since recreated: its original offset is past the new partition's end.
            await producer.ProduceAsync(dlq, WithHeader(made.Message, DeadLetterHeaders.OriginalOffset, "50000"), TestContext.Current.CancellationToken);
        }

        for (var run = 0; run < 2; run++)
        {
            var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. Endpoints(topic)]);
            var skipped = Assert.Single(replay.GetProperty("letters").EnumerateArray(), l => l.GetProperty("outcome").GetString() == "skipped");
            Assert.Equal(
                $"{topic}[{partition}] ends at offset {(run == 0 ? 1 : 2)}, before its original offset 50000: the topic was recreated since, or the letter's origin header is wrong; that record is not there; not replayed, to never replay twice",
                skipped.GetProperty("detail").GetString());
            Assert.Equal((1 - run, run), (Count(replay, "replayed"), Count(replay, "alreadyReplayed")));
        }

        Assert.Equal(1, Assert.Single(ReplaysPerLetter(topic)).Value);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("replay")]
    public async Task AgainstNoBroker_TheWaitIsSaidOnce_ThenOneLine_Exit1(string verb)
    {
        var nobody = $"127.0.0.1:{OrdersProcess.FreePort()}";

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(["dlq", verb, "--bootstrap-servers", nobody, "--topic", "orders"], TimeSpan.FromSeconds(60));

        // Before: librdkafka's own lines (all brokers down, connection refused), then the metadata error after 15 s, nothing said meanwhile.
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == 1 && lines.Length == 2, $"exit {exit}:\n{stderr}");
        Assert.Equal("", stdout);
        Assert.Contains($"Waiting for a Kafka broker at {nobody} (for up to 15 s)", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"orders: no Kafka broker at {nobody} answered within 15 s", lines[1], StringComparison.Ordinal);
    }

    private string CreateTopics(string prefix, int dlqPartitions = 3)
    {
        var topic = fixture.CreateTopic(prefix);
        fixture.Stack.Kafka.Cluster.CreateTopic(Topics.DeadLetterFor(topic), dlqPartitions, replicationFactor: 2);
        StackFixture.CreateStatsTopic(fixture.Stack.Kafka, topic, 3, replicationFactor: 2);
        return topic;
    }

    private string[] Endpoints(string topic) => OrdersCommand.Endpoints(fixture, topic);

    /// <summary>Every order fails once and is dead-lettered at once (retries-exhausted after 1 attempt).</summary>
    private Task<JsonElement> FailEverythingAsync(string topic, string group) =>
        OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3", "--fail-ratio", "1", "--max-attempts", "1"]);

    private static int Count(JsonElement summary, string key) => summary.GetProperty(key).GetInt32();

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private async Task ProduceRawAsync(string topic, params (string Key, byte[] Value)[] records)
    {
        using var producer = new ProducerBuilder<string, byte[]>(fixture.ProducerConfig()).Build();
        foreach (var (key, value) in records)
        {
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value }, TestContext.Current.CancellationToken);
        }
    }

    private static Message<byte[]?, byte[]?> WithHeader(Message<byte[]?, byte[]?> message, string key, string value)
    {
        var headers = new Headers();
        foreach (var header in message.Headers.Where(h => h.Key != key))
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        headers.Add(key, Encoding.UTF8.GetBytes(value));
        return new Message<byte[]?, byte[]?> { Key = message.Key, Value = message.Value, Headers = headers };
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> record, string key) => Header(record.Message, key);

    private static string? Header(Message<byte[]?, byte[]?> message, string key) =>
        message.Headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>How many copies in the topic name each dead letter in <c>dlq.replayed.from</c>.</summary>
    private Dictionary<string, int> ReplaysPerLetter(string topic) =>
        ReadTopic(topic, 3)
            .Select(r => Header(r, ReplayedFrom))
            .OfType<string>()
            .GroupBy(from => from)
            .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Every record a topic holds now, read by assignment from each partition's start to its end.</summary>
    private List<ConsumeResult<byte[]?, byte[]?>> ReadTopic(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(fixture.ConsumerConfig(StackFixture.Unique("verify"))).Build();
        var ends = Enumerable.Range(0, partitions)
            .Select(p => (Partition: p, Watermarks: consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10))))
            .Where(p => p.Watermarks.High.Value > p.Watermarks.Low.Value)
            .ToDictionary(p => p.Partition, p => p.Watermarks.High.Value);
        consumer.Assign(ends.Keys.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var expected = (int)ends.Sum(e => e.Value - consumer.QueryWatermarkOffsets(new TopicPartition(topic, e.Key), TimeSpan.FromSeconds(10)).Low.Value);
        var records = KafkaTestClient.ConsumeAll(consumer, expected, TimeSpan.FromSeconds(30));
        Assert.Equal(expected, records.Count);
        return records.OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();
    }

    /// <returns>The topic's partition count, or null when it does not exist; asked without creating it.</returns>
    private int? TopicPartitions(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = fixture.BootstrapServers,
            GroupId = StackFixture.Unique("meta"),
            AllowAutoCreateTopics = false,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var found = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.FirstOrDefault(t => t.Topic == topic);
        return found is null || found.Error.IsError ? null : found.Partitions.Count;
    }
}
