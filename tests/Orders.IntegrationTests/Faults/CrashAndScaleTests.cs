using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests.Faults;

/// <summary>
/// The processor killed, restarted and scaled while orders flow: the state in the checkpoints
/// must end exactly equal to the valid orders in the topic. Each test has a stack of its own, a
/// fixed seed and bounded waits.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class CrashAndScaleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultStack _stack = null!;

    public async ValueTask InitializeAsync() => _stack = await FaultStack.StartAsync();

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    [Fact]
    public async Task KilledThreeTimesMidRun_RestartedEachTime_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("kill9", partitions: 12);
        var group = StackFixture.Unique("kill9");
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];

        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "100000", "--rate", "10000", "--invalid-ratio", "0.02", "--seed", "11"]);
        for (var kill = 1; kill <= 3; kill++)
        {
            using var processor = new ProcessorProcess(consume);
            var assignedAfter = await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            output.WriteLine($"run {kill}: partitions restored {assignedAfter.TotalSeconds:F1} s after start");
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            processor.Kill();
        }

        var produced = await producing;
        Assert.Equal(100_000, produced.GetProperty("produced").GetInt64());
        using (var last = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"]))
        {
            await last.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.True(last.ExitCode == 0, last.StandardError);
            output.WriteLine(last.StandardOutput);
        }

        var stats = await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));

        // And what the producer itself reports it sent: the count and exact sum of the valid orders it had acknowledged.
        var valid = produced.GetProperty("valid");
        Assert.Equal(valid.GetProperty("count").GetInt64(), stats.GetProperty("count").GetInt64());
        foreach (var currency in valid.GetProperty("currencies").EnumerateObject())
        {
            var counted = stats.GetProperty("currencies").GetProperty(currency.Name);
            Assert.Equal(currency.Value.GetProperty("count").GetInt64(), counted.GetProperty("count").GetInt64());
            Assert.Equal(currency.Value.GetProperty("sum").GetString(), counted.GetProperty("price").GetProperty("sum").GetString());
            Assert.Equal(currency.Value.GetProperty("orderValueSum").GetString(), counted.GetProperty("orderValue").GetProperty("sum").GetString());
        }
        Oracle.AssertCommitsFollowCheckpoints(_stack, group, stats);
    }

    [Fact]
    public async Task ScaledOneToThreeToOne_WhileOrdersFlow_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("scale", partitions: 12);
        var group = StackFixture.Unique("scale");
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];

        using var first = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"]);
        await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "60000", "--rate", "6000", "--invalid-ratio", "0.02", "--seed", "12"]);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        using (var second = new ProcessorProcess(consume))
        using (var third = new ProcessorProcess(consume))
        {
            output.WriteLine($"scale-out: second instance restored its partitions after {(await second.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60))).TotalSeconds:F1} s");
            output.WriteLine($"scale-out: third instance restored its partitions after {(await third.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60))).TotalSeconds:F1} s");
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            // Each stops within its bounds (revoke 10 s, leaving the group 10 s), even in mid-rebalance.
            await second.TerminateAsync(TimeSpan.FromSeconds(45));
            await third.TerminateAsync(TimeSpan.FromSeconds(45));
            Assert.True(second.ExitCode == 0, second.StandardError);
            Assert.True(third.ExitCode == 0, third.StandardError);
        }

        Assert.Equal(60_000, (await producing).GetProperty("produced").GetInt64());
        await first.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("Partitions revoked", first.StandardError, StringComparison.Ordinal);
        var stats = await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
        Oracle.AssertCommitsFollowCheckpoints(_stack, group, stats);
    }

    [Fact]
    public async Task RetryInProgressAcrossARebalance_PartitionsComeBackUnpaused_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("retry-rebalance", partitions: 6);
        var group = StackFixture.Unique("retry-rebalance");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "600", "--invalid-ratio", "0.02", "--seed", "13"]);
        // One attempt in five fails and waits a backoff: partitions are often paused for a retry when the group rebalances.
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--fail-ratio", "0.2", "--retry-delay-ms", "200", "--max-attempts", "60", "--checkpoint-interval", "1"];

        using var first = new ProcessorProcess([.. consume, "--until-idle", "8", "--json", "--seed", "5"]);
        await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        using (var second = new ProcessorProcess([.. consume, "--seed", "6"]))
        {
            await second.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            await second.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        // A partition that came back still paused would never be read again: lag stays, stats fail.
        await first.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("Partitions revoked", first.StandardError, StringComparison.Ordinal);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }
}

[CollectionDefinition(Name)]
public sealed class FaultSuite
{
    /// <summary>The fault tests run one at a time: each is heavy, and timing matters to what they provoke.</summary>
    public const string Name = "fault suite";
}
