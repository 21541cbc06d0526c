using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests.Faults;

/// <summary>
/// Concurrent handling under faults: a slow, failing downstream (10 ms a call, 5% failures) keeps
/// hundreds of orders in flight and dozens waiting out a retry when a processor is killed -9 or a
/// group rebalances. The checkpoints (lowest incomplete offset plus the offsets completed above
/// it) must still end exactly equal to the valid orders in the topic, every dead letter once.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class ConcurrencyFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultStack _stack = null!;

    public async ValueTask InitializeAsync() => _stack = await FaultStack.StartAsync();

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    /// <summary>No retry is ever exhausted (50 attempts), so the dead letters are exactly the invalid orders.</summary>
    private string[] Slow(string topic, string group) =>
    [
        .. _stack.Endpoints(topic), "--group", group, "--handler-latency", "5ms-15ms", "--fail-ratio", "0.05", "--max-attempts", "50",
        "--retry-delay-ms", "100", "--checkpoint-interval", "1",
    ];

    [Fact]
    public async Task KilledWhileHundredsAreInFlightAndRetrying_RestartedEachTime_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("inflight-kill9", partitions: 12);
        var group = StackFixture.Unique("inflight-kill9");
        var producing = OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "20000", "--rate", "4000", "--invalid-ratio", "0.02", "--seed", "21"]);
        for (var kill = 1; kill <= 3; kill++)
        {
            using var processor = new ProcessorProcess([.. Slow(topic, group), "--seed", kill.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
            processor.Kill();
            output.WriteLine($"run {kill} killed:\n{Tail(processor.StandardError)}");
        }

        var produced = await producing;
        using (var last = new ProcessorProcess([.. Slow(topic, group), "--until-idle", "5", "--json"]))
        {
            await last.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.True(last.ExitCode == 0, last.StandardError);
            output.WriteLine(last.StandardOutput);
        }

        var stats = await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
        var valid = produced.GetProperty("valid");
        Assert.Equal(valid.GetProperty("count").GetInt64(), stats.GetProperty("count").GetInt64());
        foreach (var currency in valid.GetProperty("currencies").EnumerateObject())
        {
            var counted = stats.GetProperty("currencies").GetProperty(currency.Name);
            Assert.Equal(currency.Value.GetProperty("count").GetInt64(), counted.GetProperty("count").GetInt64());
            Assert.Equal(currency.Value.GetProperty("sum").GetString(), counted.GetProperty("price").GetProperty("sum").GetString());
            Assert.Equal(currency.Value.GetProperty("orderValueSum").GetString(), counted.GetProperty("orderValue").GetProperty("sum").GetString());
        }
    }

    [Fact]
    public async Task ARebalanceWhileOrdersAreInFlightAndRetrying_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("inflight-rebalance", partitions: 6);
        var group = StackFixture.Unique("inflight-rebalance");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "6000", "--invalid-ratio", "0.02", "--seed", "23"]);

        using var first = new ProcessorProcess([.. Slow(topic, group), "--until-idle", "8", "--json", "--seed", "5"]);
        await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        using (var second = new ProcessorProcess([.. Slow(topic, group), "--seed", "6"]))
        {
            await second.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            await second.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, second.ExitCode);
        }

        await first.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("Partitions revoked", first.StandardError, StringComparison.Ordinal);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(5));
}
