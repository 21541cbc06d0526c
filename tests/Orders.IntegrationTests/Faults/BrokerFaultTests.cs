using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests.Faults;

/// <summary>Brokers going away and requests failing while orders flow: the state must stay exact.</summary>
[Collection(FaultSuite.Name)]
public sealed class BrokerFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultStack _stack = null!;

    public async ValueTask InitializeAsync() => _stack = await FaultStack.StartAsync(brokers: 3);

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    [Fact]
    public async Task BrokerDownForFiveSecondsThenUp_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("broker-down", partitions: 6, replicationFactor: 3);
        var group = StackFixture.Unique("broker-down");
        using var processor = new ProcessorProcess([.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "8", "--json"]);
        await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "30000", "--rate", "5000", "--invalid-ratio", "0.02", "--seed", "21"]);

        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerDown(2);
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerUp(2);

        Assert.Equal(30_000, (await producing).GetProperty("produced").GetInt64());
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(processor.ExitCode == 0, processor.StandardError);
        output.WriteLine(processor.StandardOutput);
        output.WriteLine(processor.StandardError);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    /// <remarks>
    /// Produce gets the errors a broker answers without having written the batch. Not RequestTimedOut nor
    /// NotEnoughReplicasAfterAppend: a broker says those after writing it, and librdkafka takes such a batch as
    /// possibly written; when a later batch of the same partition then succeeds, it takes the earlier one as written
    /// too (rd_kafka_dr_implicit_ack, rdkafka_request.c), which a broker makes true by refusing an out-of-order
    /// sequence. The mock writes nothing for an injected error and checks no sequence of a producer without a
    /// transactional id (rd_kafka_mock_validate_records), so with those two it acknowledged dead letters it never
    /// wrote: 2 or 3 of ~369 in 2 runs of 16, a loss only the mock can make.
    /// </remarks>
    public static TheoryData<KafkaApiKey, string, ErrorCode[]> RequestErrors() => new()
    {
        { KafkaApiKey.Produce, "consumer", [ErrorCode.NotLeaderForPartition, ErrorCode.NotEnoughReplicas, ErrorCode.KafkaStorageError, ErrorCode.LeaderNotAvailable] },
        { KafkaApiKey.Fetch, "consumer", [ErrorCode.NotLeaderForPartition, ErrorCode.UnknownTopicOrPart, ErrorCode.RequestTimedOut, ErrorCode.NotLeaderForPartition] },
        { KafkaApiKey.OffsetCommit, "consumer", [ErrorCode.NotCoordinatorForGroup, ErrorCode.GroupLoadInProgress, ErrorCode.RequestTimedOut, ErrorCode.GroupCoordinatorNotAvailable] },
        { KafkaApiKey.ConsumerGroupHeartbeat, "consumer", [ErrorCode.NotCoordinatorForGroup, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.GroupLoadInProgress] },
        { KafkaApiKey.JoinGroup, "classic", [ErrorCode.NotCoordinatorForGroup, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.GroupLoadInProgress] },
        { KafkaApiKey.SyncGroup, "classic", [ErrorCode.NotCoordinatorForGroup, ErrorCode.RebalanceInProgress, ErrorCode.GroupCoordinatorNotAvailable] },
    };

    [Theory]
    [MemberData(nameof(RequestErrors))]
    public async Task RequestErrorsInjected_ClientsRecover_StatsAreExact(KafkaApiKey api, string groupProtocol, ErrorCode[] errors)
    {
        var topic = _stack.CreateOrderTopics($"errors-{api}", partitions: 6, replicationFactor: 3);
        var group = StackFixture.Unique($"errors-{api}");
        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "20000", "--rate", "5000", "--invalid-ratio", "0.02", "--seed", "22"]);
        using var processor = new ProcessorProcess(
            [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "6", "--json"],
            ("Kafka__group.protocol", groupProtocol));

        // Join errors hit the group's first join; the others hit a group already at work.
        if (api is not (KafkaApiKey.JoinGroup or KafkaApiKey.SyncGroup))
        {
            await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        }

        _stack.Cluster.PushRequestErrors(api, [.. errors, .. errors]);
        Assert.Equal(20_000, (await producing).GetProperty("produced").GetInt64());
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(3));
        _stack.Cluster.ClearRequestErrors(api);
        Assert.True(processor.ExitCode == 0, processor.StandardError);
        output.WriteLine(processor.StandardOutput);
        // Its log too: what its clients said while the errors were injected, should the oracle find something amiss.
        output.WriteLine(processor.StandardError);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task CoordinatorDownAtShutdown_ProcessorStopsWithinItsBounds_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("coordinator-down", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("coordinator-down");
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 1, deadLetters: 2, coordinator: 3);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "24"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];
        using (var processor = new ProcessorProcess(consume))
        {
            await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

            // SIGTERM with the coordinator gone: leaving the group nearly always cannot complete
            // (librdkafka's close took 30 s here, measured), and the stop must come within its bounds:
            // Processor:CloseTimeout (10 s) for the close, then at most 5 s to flush the producer.
            // Once, in one of a dozen runs, the close ended by itself 0.2 s after SIGTERM (that run's log
            // was not kept, so why the client did not wait is not known); that is within the bounds too.
            _stack.Cluster.SetBrokerDown(3);
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await processor.TerminateAsync(TimeSpan.FromSeconds(45));
            var stopped = stopping.Elapsed;
            output.WriteLine($"stopped {stopped.TotalSeconds:F1} s after SIGTERM");
            output.WriteLine(processor.StandardError);
            Assert.True(processor.ExitCode == 0, processor.StandardError);
            var cut = processor.StandardError.Contains("did not leave its group within 10 s", StringComparison.Ordinal);
            Assert.True(
                cut ? stopped < TimeSpan.FromSeconds(25) : stopped < TimeSpan.FromSeconds(10),
                $"stopped {stopped.TotalSeconds:F1} s after SIGTERM ({(cut ? "the close bound cut the leave" : "the leave ended by itself")}):\n{processor.StandardError}");
        }

        _stack.Cluster.SetBrokerUp(3);
        await LastRunIsExactAsync(consume, topic, group);
    }

    [Fact]
    public async Task StatsBrokerDownWhilePartitionsAreRestored_RestoreWaits_UntilIdleCountsFromIt_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("restore-slow", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("restore-slow");
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 3, deadLetters: 1, coordinator: 1);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "25"]);

        // The checkpoints' broker is away when the partitions come: restoring them waits for it, for
        // longer than --until-idle. The orders are all there; none may be left unread.
        _stack.Cluster.SetBrokerDown(3);
        using var processor = new ProcessorProcess([.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "3", "--json"]);
        await processor.WaitForLogAsync("Partitions assigned", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerUp(3);

        await processor.WaitForExitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(processor.StandardError);
        Assert.True(processor.ExitCode == 0, processor.StandardError);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task PartitionsRestoredAfterTheirAssignment_WhileTheCoordinatorCannotGiveCommittedOffsets_StartAtTheirCheckpoints_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("no-committed", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("no-committed");
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 3, deadLetters: 1, coordinator: 2);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "3", "--json"];
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "26"]);
        await OrdersCommand.RunJsonAsync(["consume", .. consume]);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "27"]);

        // The restore outlasts the assignment (the checkpoints' broker is away), so the partitions are
        // assigned before their positions are known; and the coordinator refuses to say where the group's
        // committed offsets are. librdkafka started a partition assigned without an offset only once it
        // had them, and refused a seek until then ("Local: Erroneous state"), which ended the run.
        _stack.Cluster.PushRequestErrors(KafkaApiKey.OffsetFetch, [.. Enumerable.Repeat(ErrorCode.GroupAuthorizationFailed, 20)]);
        _stack.Cluster.SetBrokerDown(3);
        using var processor = new ProcessorProcess(consume);
        await processor.WaitForLogAsync("Partitions assigned", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerUp(3);

        await processor.WaitForExitAsync(TimeSpan.FromMinutes(2));
        _stack.Cluster.ClearRequestErrors(KafkaApiKey.OffsetFetch);
        output.WriteLine(processor.StandardError);
        Assert.True(processor.ExitCode == 0, processor.StandardError);
        // Restored after the assignment, at the first run's checkpoints, and started there: no record from
        // before a checkpoint reached the processor (it would say so, and seek back), none was read twice.
        Assert.Contains("Cannot restore", processor.StandardError, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(processor.StandardError, @"Restored no-committed-\w+\[\d\] at offset [1-9]"));
        Assert.DoesNotContain("arrived below the state's offset", processor.StandardError, StringComparison.Ordinal);
        var summary = JsonDocument.Parse(processor.StandardOutput).RootElement;
        Assert.Equal(3000, summary.GetProperty("processed").GetInt64() + summary.GetProperty("deadLettered").GetProperty("total").GetInt64());
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task ProducerStoppedWhileItsBrokerIsDownAndItsQueueFull_EndsWithinItsDrainTimeout_WithItsCounts()
    {
        // A small queue, so that it is full within a second of the broker going away.
        var (process, stdout, stderr, _) = StartProducerOnBrokerOne("produce-stop", ["--rate", "20000", "--json"], ("Kafka__queue.buffering.max.messages", "2000"));
        using var owned = process;
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerDown(1);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await OrdersProcess.SignalAsync(process, "TERM");

        var exited = process.WaitForExit(TimeSpan.FromSeconds(45));
        var stopped = stopping.Elapsed;
        _stack.Cluster.SetBrokerUp(1);
        Assert.True(exited, "orders produce did not stop after SIGTERM");
        process.WaitForExit();
        var errors = await stderr;
        output.WriteLine($"stopped {stopped.TotalSeconds:F1} s after SIGTERM, exit {process.ExitCode}");
        output.WriteLine(errors);

        // The drain timeout (10 s) bounds the stop; what was in flight is unacknowledged, and said so.
        Assert.True(stopped < TimeSpan.FromSeconds(20), $"stopped {stopped.TotalSeconds:F1} s after SIGTERM:\n{errors}");
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}:\n{errors}");
        var summary = System.Text.Json.JsonDocument.Parse(await stdout).RootElement;
        Assert.True(summary.GetProperty("unacknowledged").GetInt64() > 0, summary.ToString());
        Assert.Equal(
            summary.GetProperty("sent").GetInt64(),
            summary.GetProperty("produced").GetInt64() + summary.GetProperty("failed").GetInt64() + summary.GetProperty("unacknowledged").GetInt64());
    }

    [Fact]
    public async Task ProducerDeliveriesFailingByTheThousand_AreCounted_AndLoggedAsOneLinePerReasonAndWindow()
    {
        // Orders time out 2 s after they are sent while their broker is away.
        var (process, stdout, stderr, _) = StartProducerOnBrokerOne("produce-fail", ["--rate", "2000", "--duration", "8", "--json"], ("Kafka__message.timeout.ms", "2000"));
        using var owned = process;
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerDown(1);
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerUp(1);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "orders produce did not end");
        process.WaitForExit();
        var errors = await stderr;
        output.WriteLine(errors);

        var summary = System.Text.Json.JsonDocument.Parse(await stdout).RootElement;
        var failed = summary.GetProperty("failed").GetInt64();
        var lines = errors.Split('\n');
        Assert.True(failed >= 1000, summary.ToString());
        Assert.Equal(1, process.ExitCode);
        Assert.InRange(lines.Count(l => l.Contains("Delivery of order", StringComparison.Ordinal)), 1, 5);
        Assert.Contains(lines, l => l.Contains("more orders failed in the last", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProducerFailingFatallyAfterOrdersWereAcknowledged_PrintsItsSummaryWithTheError_AndTheTopicHoldsTheAcknowledged()
    {
        // An out-of-order sequence is fatal to an idempotent producer: the run ends, and the orders acknowledged
        // before are in the topic, so their figures are printed (before, stdout was empty and only the line said how many).
        var (process, stdout, stderr, topic) = StartProducerOnBrokerOne("produce-fatal", ["--rate", "500", "--duration", "20", "--json"]);
        using var owned = process;
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        _stack.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "orders produce did not end");
        process.WaitForExit();
        var errors = await stderr;
        output.WriteLine(errors);

        Assert.Equal(1, process.ExitCode);
        var summary = System.Text.Json.JsonDocument.Parse(await stdout).RootElement;
        output.WriteLine(summary.ToString());
        var produced = summary.GetProperty("produced").GetInt64();
        Assert.True(produced > 0, summary.ToString());
        Assert.Contains("sequence", summary.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{produced} acknowledged", errors, StringComparison.Ordinal);
        var contents = Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic);
        Assert.InRange(contents.Records, produced, summary.GetProperty("sent").GetInt64());
        var valid = summary.GetProperty("valid").GetProperty("count").GetInt64();
        Assert.InRange(contents.Currencies.Values.Sum(c => c.Count), valid, valid + contents.Records - produced);
    }

    [Fact]
    public async Task ProducerDeliveriesTimingOutInFlight_AreCountedAsPossiblyPersisted_AndTheTopicHoldsNoMoreThanThoseBesides()
    {
        // The broker writes each batch at once and answers 4 s later; orders time out 2 s after they are
        // sent, so those sent meanwhile fail although they are in the topic.
        var (process, stdout, stderr, topic) = StartProducerOnBrokerOne(
            "produce-unanswered", ["--rate", "1000", "--duration", "8", "--invalid-ratio", "0.1", "--seed", "29", "--json"], ("Kafka__message.timeout.ms", "2000"));
        using var owned = process;
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerRoundTripTime(1, TimeSpan.FromSeconds(4));
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        _stack.Cluster.SetBrokerRoundTripTime(1, TimeSpan.Zero);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "orders produce did not end");
        process.WaitForExit();
        var errors = await stderr;
        output.WriteLine(errors);
        var summary = System.Text.Json.JsonDocument.Parse(await stdout).RootElement;
        output.WriteLine(summary.ToString());

        var produced = summary.GetProperty("produced").GetInt64();
        var possibly = summary.GetProperty("possiblyPersisted").GetInt64();
        var validPossibly = summary.GetProperty("validPossiblyPersisted");
        Assert.Equal(1, process.ExitCode);
        Assert.InRange(possibly, 1, summary.GetProperty("failed").GetInt64());
        // The invalid orders are counted among the acknowledged, as the valid are (they were counted as handed over).
        Assert.Equal(produced, summary.GetProperty("invalid").GetInt64() + summary.GetProperty("valid").GetProperty("count").GetInt64());
        Assert.Contains("possibly written all the same", errors, StringComparison.Ordinal);

        // What the topic holds lies between the acknowledged orders and the acknowledged plus the possibly
        // persisted ones, in all and per currency; before they were counted apart, it held more than either
        // figure of the summary could say.
        var contents = Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic);
        Assert.InRange(contents.Records, produced, produced + possibly);
        Assert.True(contents.Records > produced, $"the topic holds {contents.Records} records, only the {produced} acknowledged");
        foreach (var (currency, totals) in contents.Currencies)
        {
            var acknowledged = Totals(summary.GetProperty("valid"), currency);
            var unanswered = Totals(validPossibly, currency);
            Assert.InRange(totals.Count, acknowledged.Count, acknowledged.Count + unanswered.Count);
            Assert.InRange(totals.PriceSum, acknowledged.Sum, acknowledged.Sum + unanswered.Sum);
        }

        static (long Count, decimal Sum) Totals(System.Text.Json.JsonElement valid, string currency) =>
            valid.GetProperty("currencies").TryGetProperty(currency, out var c)
                ? (c.GetProperty("count").GetInt64(), decimal.Parse(c.GetProperty("sum").GetString()!, System.Globalization.CultureInfo.InvariantCulture))
                : (0, 0m);
    }

    [Fact]
    public async Task StopWhilePartitionsAreRestoredAndTheirBrokerDoesNotAnswer_RestoreIsGivenUp_StopsAtOnce_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("restore-stop", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("restore-stop");
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 3, deadLetters: 1, coordinator: 1);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "27"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];

        // The checkpoints' broker takes a minute to answer: the restore, inside the assignment callback,
        // waits for it (up to Processor:RestoreTimeout, 30 s). A stop must not wait with it. (A broker
        // that is down fails the restore at once instead: "Unknown partition", tried again later.)
        _stack.Cluster.SetBrokerRoundTripTime(3, TimeSpan.FromMinutes(1));
        using (var processor = new ProcessorProcess(consume))
        {
            await processor.WaitForLogAsync("Partitions assigned", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            if (processor.StandardError.Contains("Cannot restore", StringComparison.Ordinal))
            {
                // The first attempt failed at once (a client that did not know the topic yet: "Unknown
                // partition"); the next, after the 5 s backoff, is the one that waits for the broker.
                await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
            }

            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await processor.TerminateAsync(TimeSpan.FromSeconds(45));
            var stopped = stopping.Elapsed;
            output.WriteLine($"stopped {stopped.TotalSeconds:F1} s after SIGTERM");
            output.WriteLine(processor.StandardError);
            Assert.True(processor.ExitCode == 0, processor.StandardError);
            Assert.Contains("given up: the processor is stopping", processor.StandardError, StringComparison.Ordinal);
            Assert.True(stopped < TimeSpan.FromSeconds(10), $"stopped {stopped.TotalSeconds:F1} s after SIGTERM:\n{processor.StandardError}");
        }

        _stack.Cluster.SetBrokerRoundTripTime(3, TimeSpan.Zero);
        await LastRunIsExactAsync(consume, topic, group);
    }

    [Fact]
    public async Task OnePartitionsCheckpointsBrokerDoesNotAnswer_ThoseAssignedWithItAreRestoredAndProcessed_ItFollowsOnceItAnswers_StatsAreExact()
    {
        // Partition 2's checkpoints are led by a broker slow to answer (on a real cluster, the
        // reads of an offline partition wait for a leader until they time out); partitions 0 and 1's by another.
        var topic = _stack.CreateOrderTopics("restore-one-slow", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("restore-one-slow");
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 2, deadLetters: 1, coordinator: 1);
        _stack.Cluster.SetPartitionLeader(Orders.Contracts.Topics.StatsFor(topic), 2, 3);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--invalid-ratio", "0.05", "--seed", "28"]);

        // 20 s: longer than the reads' timeout (5 s here), short enough that the answers queued on the broker's
        // connection (the mock answers a connection's requests in order) are through soon after it is set back.
        _stack.Cluster.SetBrokerRoundTripTime(3, TimeSpan.FromSeconds(20));
        using (var processor = new ProcessorProcess(
            [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "3", "--json"], ("Processor__RestoreTimeout", "00:00:05")))
        {
            // The three are read together, which times out; then each alone: 0 and 1 restore, 2 waits for its retry.
            await processor.WaitForLogAsync($"Restored {topic}[0]", TimeSpan.FromSeconds(45));
            await processor.WaitForLogAsync($"Restored {topic}[1]", TimeSpan.FromSeconds(15));
            await processor.WaitForLogAsync($"Cannot restore {topic}[2] yet", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain($"Restored {topic}[2]", processor.StandardError, StringComparison.Ordinal);

            _stack.Cluster.SetBrokerRoundTripTime(3, TimeSpan.Zero);
            await processor.WaitForExitAsync(TimeSpan.FromMinutes(2));
            output.WriteLine(processor.StandardError);
            Assert.True(processor.ExitCode == 0, processor.StandardError);
            Assert.Contains($"Restored {topic}[2]", processor.StandardError, StringComparison.Ordinal);
        }

        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task PartitionAssignedWhileAnothersRestoreWaitsForItsBroker_IsRestoredAtOnce_ThenBothAreProcessed_StatsAreExact()
    {
        // A member leaves while the processor's read of its own partition's checkpoints waits for a broker that does
        // not answer: the partition it inherits is read through the second reader, not after that read.
        var topic = _stack.CreateOrderTopics("restore-spare", partitions: 2, replicationFactor: 3);
        var group = StackFixture.Unique("restore-spare");
        _stack.PlaceOnBrokers(topic, 2, group, orders: 1, checkpoints: 1, deadLetters: 1, coordinator: 1);
        var stats = Orders.Contracts.Topics.StatsFor(topic);
        int[] statsBroker = [2, 3];
        _stack.Cluster.SetPartitionLeader(stats, 0, statsBroker[0]);
        _stack.Cluster.SetPartitionLeader(stats, 1, statsBroker[1]);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "2000", "--invalid-ratio", "0.05", "--seed", "29"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];

        using var leaving = new ProcessorProcess(consume);
        await leaving.WaitForLogAsync($"Restored {topic}[0]", TimeSpan.FromSeconds(60));
        await leaving.WaitForLogAsync($"Restored {topic}[1]", TimeSpan.FromSeconds(30));

        // Both checkpoint brokers answer after 20 s until the joining processor's assignment says which one it reads.
        _stack.Cluster.SetBrokerRoundTripTime(statsBroker[0], TimeSpan.FromSeconds(20));
        _stack.Cluster.SetBrokerRoundTripTime(statsBroker[1], TimeSpan.FromSeconds(20));
        using var staying = new ProcessorProcess([.. consume, "--until-idle", "3", "--json"], ("Processor__RestoreTimeout", "00:01:00"));
        await staying.WaitForLogAsync($"Partitions assigned: {topic}[", TimeSpan.FromSeconds(60));
        var held = staying.StandardError.Contains($"Partitions assigned: {topic}[0]", StringComparison.Ordinal) ? 0 : 1;
        var inherited = 1 - held;
        _stack.Cluster.SetBrokerRoundTripTime(statsBroker[inherited], TimeSpan.Zero);

        // Its read of the held partition ends only when its requests time out (~30 s: "Timed out in queue") or the
        // broker answers; read after it, the inherited partition was restored only then.
        await leaving.TerminateAsync(TimeSpan.FromSeconds(30));
        await staying.WaitForLogAsync($"Restored {topic}[{inherited}]", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain($"Restored {topic}[{held}]", staying.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain($"Cannot restore {topic}[{held}]", staying.StandardError, StringComparison.Ordinal);

        _stack.Cluster.SetBrokerRoundTripTime(statsBroker[held], TimeSpan.Zero);
        await staying.WaitForExitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(staying.StandardError);
        Assert.True(staying.ExitCode == 0, staying.StandardError);
        Assert.Contains($"Restored {topic}[{held}]", staying.StandardError, StringComparison.Ordinal);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task DeadLetterBrokerDownForAWhile_LettersAreWrittenAfter_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("dlq-down", partitions: 3, replicationFactor: 3);
        var group = StackFixture.Unique("dlq-down");
        // The group's coordinator stays up: only dead letters lose their broker.
        _stack.PlaceOnBrokers(topic, 3, group, orders: 1, checkpoints: 1, deadLetters: 3, coordinator: 1);

        // Restoring reads the dead-letter topic back, so the broker goes down once the processor is
        // at work: after its first dead letter, while orders still flow (6 s of them). A client that
        // starts while a mock broker is down can wait seconds on it, hence the order.
        using var processor = new ProcessorProcess([.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "5", "--json"]);
        await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "3000", "--rate", "500", "--invalid-ratio", "0.1", "--seed", "23"]);
        await processor.WaitForLogAsync("Dead-lettered", TimeSpan.FromSeconds(60));
        _stack.Cluster.SetBrokerDown(3);
        Assert.Equal(3000, (await producing).GetProperty("produced").GetInt64());

        // Idle for longer than --until-idle, but dead letters are still waiting for their broker: it must not stop.
        await Task.Delay(TimeSpan.FromSeconds(7), TestContext.Current.CancellationToken);
        Assert.False(processor.HasExited, "the processor stopped while the dead-letter broker was down:\n" + processor.StandardError);
        _stack.Cluster.SetBrokerUp(3);

        await processor.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(processor.ExitCode == 0, processor.StandardError);
        output.WriteLine(processor.StandardError);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    /// <summary>A processor of the group runs until idle, after the fault; then the state must be exact.</summary>
    private async Task LastRunIsExactAsync(string[] consume, string topic, string group)
    {
        using (var last = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"]))
        {
            await last.WaitForExitAsync(TimeSpan.FromMinutes(2));
            Assert.True(last.ExitCode == 0, last.StandardError);
        }

        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    /// <summary>`orders produce` into a new 3-partition topic whose partitions are all led by broker 1, its output read as it comes.</summary>
    private (System.Diagnostics.Process Process, Task<string> Stdout, Task<string> Stderr, string Topic) StartProducerOnBrokerOne(
        string prefix, string[] args, params (string Name, string Value)[] environment)
    {
        var topic = _stack.CreateOrderTopics(prefix, partitions: 3, replicationFactor: 1);
        for (var p = 0; p < 3; p++)
        {
            _stack.Cluster.SetPartitionLeader(topic, p, 1);
        }

        var process = OrdersProcess.Start(["produce", .. _stack.Endpoints(topic), .. args], environment);
        return (process, process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken), process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken), topic);
    }
}
