using System.Text;
using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

public sealed class ReplayPlannerTests
{
    // Each partition's end when scanned, past every original and copy of the tests but where said.
    private const long End = 1_000;

    private static string? AllExist(string topic, int partition) => null;

    private static IReadOnlyList<ReplayDecision> Decide(IEnumerable<DeadLetter> letters, Func<string, int, string?>? targetProblem = null, params ReplayHistory[] histories)
    {
        var (unreplayable, groups) = ReplayPlanner.Group(letters, "orders");
        var scans = ReplayPlanner.ScanStarts(groups).ToDictionary(s => s.Key, s => new ReplayHistory(s.Key.Topic, s.Key.Partition, s.Value, End));
        foreach (var history in histories)
        {
            // The tests' histories all cover orders[0].
            scans[("orders", 0)] = history;
        }

        return [.. unreplayable, .. ReplayPlanner.Decide(groups, targetProblem ?? AllExist, scans)];
    }

    [Fact]
    public void ScanStarts_RightAfterTheLowestOriginalOffsetOfEachPartition()
    {
        var (_, groups) = ReplayPlanner.Group(
            [
                Letters.Make(0, 0, originalPartition: 0, originalOffset: 40),
                Letters.Make(0, 1, originalPartition: 0, originalOffset: 12),
                Letters.Make(1, 0, originalPartition: 2, originalOffset: 7),
                Letters.Make(1, 1, originalPartition: 5, originalOffset: 3),
            ],
            "orders");

        var starts = ReplayPlanner.ScanStarts(groups);

        Assert.Equal(new Dictionary<(string, int), long> { [("orders", 0)] = 13, [("orders", 2)] = 8, [("orders", 5)] = 4 }, starts);
    }

    [Fact]
    public void Decide_NothingReplayedYet_ReplaysEachInOriginalPartitionOrder()
    {
        var decisions = Decide(
        [
            Letters.Make(1, 0, originalPartition: 0, originalOffset: 9),
            Letters.Make(0, 0, originalPartition: 0, originalOffset: 5),
            Letters.Make(0, 1, originalPartition: 1, originalOffset: 2),
        ]);

        Assert.All(decisions, d => Assert.Equal(ReplayOutcome.Replay, d.Outcome));
        Assert.Equal(["orders/0@5", "orders/0@9", "orders/1@2"], decisions.Select(d => d.Letter.Original.ToString()));
    }

    [Fact]
    public void Decide_DuplicateLettersOfOneRecord_ReplayTheFirstOnly()
    {
        var first = Letters.Make(0, 3, originalOffset: 5);
        var again = Letters.Make(0, 4, originalOffset: 5);

        var decisions = Decide([again, first]);

        Assert.Equal(2, decisions.Count);
        Assert.Equal((first, ReplayOutcome.Replay), (decisions[0].Letter, decisions[0].Outcome));
        Assert.Equal((again, ReplayOutcome.Duplicate), (decisions[1].Letter, decisions[1].Outcome));
        Assert.Equal(first.Position, decisions[1].Related);
    }

    [Fact]
    public void Decide_AReplayNamingTheLetter_MeansAlreadyReplayed()
    {
        var letter = Letters.Make(0, 3, originalOffset: 5);
        var history = new ReplayHistory("orders", 0, 6, End);
        history.Record(20, "orders_dlq/0@3", null);

        var decision = Assert.Single(Decide([letter], histories: history));

        Assert.Equal(ReplayOutcome.AlreadyReplayed, decision.Outcome);
        Assert.Equal(new RecordPosition("orders", 0, 20), decision.Related);
    }

    [Fact]
    public void Decide_AReplayOfTheSameOrigin_FromALetterNoLongerThere_MeansAlreadyReplayed()
    {
        var duplicate = Letters.Make(0, 9, originalOffset: 5);
        var history = new ReplayHistory("orders", 0, 6, End);
        history.Record(20, "orders_dlq/0@3", "orders/0@5");

        var decision = Assert.Single(Decide([duplicate], histories: history));

        Assert.Equal(ReplayOutcome.AlreadyReplayed, decision.Outcome);
    }

    [Fact]
    public void Decide_ReplaysOfOtherPartitionsOrRecords_DoNotCount()
    {
        var letter = Letters.Make(0, 3, originalOffset: 5);
        var history = new ReplayHistory("orders", 0, 6, End);
        history.Record(20, "orders_dlq/1@3", "orders/1@5");
        history.Record(21, "orders_dlq/0@4", "orders/0@6");
        history.Record(22, null, "garbage");

        Assert.Equal(ReplayOutcome.Replay, Assert.Single(Decide([letter], histories: history)).Outcome);
    }

    [Fact]
    public void Decide_AlreadyReplayedByTheSecondOfTwoDuplicates_ThatOneStandsForTheRecord()
    {
        var first = Letters.Make(0, 3, originalOffset: 5);
        var second = Letters.Make(0, 4, originalOffset: 5);
        var history = new ReplayHistory("orders", 0, 6, End);
        history.Record(20, "orders_dlq/0@4", "orders/0@5");

        var decisions = Decide([first, second], histories: history).ToDictionary(d => d.Letter);

        Assert.Equal(ReplayOutcome.AlreadyReplayed, decisions[second].Outcome);
        Assert.Equal(ReplayOutcome.Duplicate, decisions[first].Outcome);
    }

    [Fact]
    public void Decide_ACopyNamingTheLetterWithAnotherOrigin_IsNotItsReplay_ADeadLetterTopicRecreatedNumbersFromZeroAgain()
    {
        // orders_dlq/0@3 now names a new letter, of orders/0@5; the copy at 20 came from the old orders_dlq/0@3, of orders/0@2.
        var letter = Letters.Make(0, 3, originalOffset: 5);
        var history = new ReplayHistory("orders", 0, 3, End);
        history.Record(20, "orders_dlq/0@3", "orders/0@2");

        Assert.Equal(ReplayOutcome.Replay, Assert.Single(Decide([letter], histories: history)).Outcome);
    }

    [Fact]
    public void Decide_ACopyAtOrBeforeTheOriginal_IsNotItsReplay()
    {
        // The letter's original is itself a copy (replayed, and dead-lettered again): it names the letter it was
        // made from, a letter whose position the new one shares, and no origin (written before origins were).
        var letter = Letters.Make(0, 3, originalOffset: 20);
        var history = new ReplayHistory("orders", 0, 6, End);
        history.Record(20, "orders_dlq/0@3", null);

        Assert.Equal(ReplayOutcome.Replay, Assert.Single(Decide([letter, Letters.Make(0, 0, originalOffset: 5)], histories: history), d => d.Letter == letter).Outcome);
    }

    [Fact]
    public void Decide_AnOriginalAtOrPastItsPartitionsEnd_IsSkipped_ForItsCopyWouldLandWhereNoLaterScanLooks()
    {
        // orders[0] ends at 40 (recreated since): a copy of 50 would land at 40, below the next scan's start, 51.
        var past = Letters.Make(0, 0, originalOffset: 50);
        var last = Letters.Make(0, 1, originalOffset: 39);
        var history = new ReplayHistory("orders", 0, 40, end: 40);

        var decisions = Decide([past, last], histories: history).ToDictionary(d => d.Letter);

        Assert.Equal(ReplayOutcome.Skipped, decisions[past].Outcome);
        Assert.Equal("orders[0] ends at offset 40, before its original offset 50: the topic was recreated since, or the letter's origin header is wrong; that record is not there; not replayed, to never replay twice", decisions[past].Detail);
        Assert.Equal(ReplayOutcome.Replay, decisions[last].Outcome);
    }

    [Fact]
    public void Decide_HistoryCutByRetention_SkipsWhatCannotBeProvenUnreplayed()
    {
        var old = Letters.Make(0, 0, originalOffset: 5);
        var recent = Letters.Make(0, 1, originalOffset: 30);

        // The partition now starts at 25: a replay of offset 5 could have sat at 6 to 24.
        var decisions = Decide([old, recent], histories: new ReplayHistory("orders", 0, 25, End)).ToDictionary(d => d.Letter);

        Assert.Equal(ReplayOutcome.Skipped, decisions[old].Outcome);
        Assert.Contains("no longer holds offsets 6 to 24", decisions[old].Detail, StringComparison.Ordinal);
        Assert.Equal(ReplayOutcome.Replay, decisions[recent].Outcome);
    }

    [Fact]
    public void Decide_OriginalGone_SkipsEveryLetterOfIt_WithTheReason()
    {
        var letters = new[] { Letters.Make(0, 0, originalPartition: 7, originalOffset: 1), Letters.Make(0, 1, originalPartition: 7, originalOffset: 1) };

        var decisions = Decide(letters, (topic, partition) => partition == 7 ? "original partition orders[7] no longer exists" : null);

        Assert.All(decisions, d => Assert.Equal((ReplayOutcome.Skipped, "original partition orders[7] no longer exists"), (d.Outcome, d.Detail)));
        Assert.Equal(2, decisions.Count);
    }

    [Fact]
    public void Group_LettersWithoutAnOrigin_AreSkippedWithTheProblem()
    {
        var bare = DeadLetter.From(new RecordPosition("orders_dlq", 0, 0), Letters.FailedAt, null, null, []);

        var (unreplayable, groups) = ReplayPlanner.Group([bare], "orders");

        Assert.Empty(groups);
        var decision = Assert.Single(unreplayable);
        Assert.Equal(ReplayOutcome.Skipped, decision.Outcome);
        Assert.Contains("no dlq.original.topic", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Group_LettersNamingAnotherTopicThanTheSource_AreSkipped_SoAReplayNeverWritesElsewhere()
    {
        var stats = Letters.Make(0, 0, originalTopic: "orders_stats", originalPartition: 0, originalOffset: 3);
        var own = Letters.Make(0, 1, originalPartition: 0, originalOffset: 4);

        var (unreplayable, groups) = ReplayPlanner.Group([stats, own], "orders");

        Assert.Equal("orders/0@4", Assert.Single(groups).Original.ToString());
        var decision = Assert.Single(unreplayable);
        Assert.Same(stats, decision.Letter);
        Assert.Equal(ReplayOutcome.Skipped, decision.Outcome);
        Assert.Equal("its origin orders_stats/0@3 is not in orders, whose dead letters these are: a replay writes only to orders", decision.Detail);
    }

    [Fact]
    public void Copy_OfATruncatedLetter_IsTheOriginalRecordGiven_WithItsHeadersWithoutDiagnostics()
    {
        var letter = Letters.Make(3, 1234, originalPartition: 2, originalOffset: 17, extra: [Letters.Text(DeadLetterHeaders.Truncated, "too large; removed: value (2000000 bytes)")]);
        var original = new Confluent.Kafka.Message<byte[]?, byte[]?>
        {
            Key = [7],
            Value = [0, 0, 0, 0, 1, 9, 9],
            Headers = new Confluent.Kafka.Headers { { "traceparent", [0x31] }, { ReplayHeaders.ReplayedFrom, [0x32] } },
        };

        var copy = DeadLetterReplayer.Copy(letter, original);

        Assert.Equal(original.Key, copy.Key);
        Assert.Equal(original.Value, copy.Value);
        Assert.Equal(
            [("traceparent", "1"), (ReplayHeaders.ReplayedFrom, "orders_dlq/3@1234"), (ReplayHeaders.ReplayedOrigin, "orders/2@17")],
            copy.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))));
    }

    [Fact]
    public void Copy_IsTheOriginalRecord_WithoutDiagnostics_NamingItsLetterAndOrigin()
    {
        var letter = Letters.Make(3, 1234, originalPartition: 2, originalOffset: 17, extra: [Letters.Text("trace-id", "abc")]);

        var copy = DeadLetterReplayer.Copy(letter);

        Assert.Equal(letter.Key, copy.Key);
        Assert.Equal(letter.Value, copy.Value);
        Assert.Equal(
            [("trace-id", "abc"), (ReplayHeaders.ReplayedFrom, "orders_dlq/3@1234"), (ReplayHeaders.ReplayedOrigin, "orders/2@17")],
            copy.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))));
        // The broker stamps the time of the replay.
        Assert.Equal(Confluent.Kafka.Timestamp.Default, copy.Timestamp);
    }
}
