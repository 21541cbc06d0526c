using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orders.Hosting;
using Orders.Tests.Shared;

namespace Orders.Kafka.UnitTests;

/// <summary>librdkafka's log lines and errors through <see cref="KafkaLogRoute"/>: floods summarised, secrets masked.</summary>
public sealed class KafkaLogRouteTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger _logger = new();

    private static LogMessage Resolve(int afterMs) =>
        new("rdkafka#consumer-1", SyslogLevel.Error, "FAIL", $"nohost:1/bootstrap: Failed to resolve 'nohost:1': Name or service not known (after {afterMs}ms in state CONNECT)");

    [Fact]
    public void AnUnreachableBroker_IsOneLine_ThenOneCountPerMinute()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        // About what librdkafka sends for a wrong address: 4 a second for a minute.
        for (var i = 0; i < 241; i++)
        {
            route.Log(Resolve(i % 3));
            _time.Advance(TimeSpan.FromMilliseconds(249));
        }

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(2, _logger.Entries.Count);
        Assert.Contains("Failed to resolve 'nohost:1'", _logger.Messages[0], StringComparison.Ordinal);
        Assert.EndsWith("(repeated 240 times in the last 60 s)", _logger.Messages[1], StringComparison.Ordinal);
        Assert.All(_logger.Entries, e => Assert.Equal(LogLevel.Error, e.Level));
    }

    [Fact]
    public void ErrorCallbacks_AreSummarisedToo()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        for (var i = 0; i < 50; i++)
        {
            route.Error(new Error(ErrorCode.Local_Resolve, $"nohost:1/bootstrap: Failed to resolve 'nohost:1' (after {i}ms in state CONNECT)"));
            route.Error(new Error(ErrorCode.Local_AllBrokersDown, "1/1 brokers are down"));
        }

        _time.Advance(KafkaLogRoute.DefaultWindow);

        Assert.Equal(
            [
                "Kafka error Local_Resolve: nohost:1/bootstrap: Failed to resolve 'nohost:1' (after 0ms in state CONNECT)",
                "Kafka error Local_AllBrokersDown: 1/1 brokers are down",
                "Kafka error Local_Resolve: nohost:1/bootstrap: Failed to resolve 'nohost:1' (after 0ms in state CONNECT) (repeated 49 times in the last 60 s)",
                "Kafka error Local_AllBrokersDown: 1/1 brokers are down (repeated 49 times in the last 60 s)",
            ],
            _logger.Messages);
    }

    [Fact]
    public void WhileHeld_NoBrokerReports_GoToDebug_AndTheNewestIsKept()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        route.HoldNoBrokerErrors();
        route.Log(Resolve(0));
        route.Error(new Error(ErrorCode.Local_Transport, "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"));
        route.Error(new Error(ErrorCode.Local_AllBrokersDown, "1/1 brokers are down"));
        _time.Advance(KafkaLogRoute.DefaultWindow);

        Assert.All(_logger.Entries, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.Equal(3, _logger.Entries.Count);
        Assert.Equal("1/1 brokers are down", route.LastHeldError);
    }

    [Fact]
    public void WhileHeld_AnAuthenticationFailure_StillPasses()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        route.HoldNoBrokerErrors();
        route.Error(new Error(ErrorCode.Local_Authentication, "SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"));

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Null(route.LastHeldError);
    }

    [Fact]
    public void OnceReleased_NoBrokerReports_AreErrorsAgain()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        route.HoldNoBrokerErrors();
        route.ReleaseNoBrokerErrors();
        route.Log(Resolve(0));

        Assert.Equal(LogLevel.Error, Assert.Single(_logger.Entries).Level);
    }

    [Theory]
    [InlineData("localhost:9092", true)]
    [InlineData("127.0.0.1:9092", true)]
    [InlineData("127.0.0.1:1", false)]
    [InlineData("broker-1:9092", false)]
    public void TheWaitForABroker_SaysWhatStartsOne_OnlyForTheLocalDefault(string bootstrap, bool hinted) =>
        Assert.Equal(hinted, BrokerWait.Hint(bootstrap).Contains("orders stack", StringComparison.Ordinal));

    [Fact]
    public void FatalErrors_AreAlwaysWritten()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        route.Error(new Error(ErrorCode.Local_Fatal, "fenced", isFatal: true));
        route.Error(new Error(ErrorCode.Local_Fatal, "fenced", isFatal: true));

        Assert.Equal(2, _logger.Entries.Count(e => e.Level == LogLevel.Critical));
    }

    [Fact]
    public void InfoLinesThatRepeat_AreSummarisedToo()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        // What a closing consumer logged while its group coordinator was down, thousands of times a second.
        for (var i = 0; i < 10_000; i++)
        {
            route.Log(new LogMessage(
                "rdkafka#consumer-3", SyslogLevel.Info, "FAIL",
                $"[thrd:GroupCoordinator]: GroupCoordinator: 127.0.0.1:41363: Disconnected: connection reset by peer (after {i % 2}ms in state APIVERSION_QUERY)"));
        }

        _time.Advance(KafkaLogRoute.DefaultWindow);

        Assert.Equal(2, _logger.Entries.Count);
        Assert.EndsWith("(repeated 9999 times in the last 60 s)", _logger.Messages[1], StringComparison.Ordinal);
        Assert.All(_logger.Entries, e => Assert.Equal(LogLevel.Information, e.Level));
    }

    [Fact]
    public void DebugLines_PassUntouched_WhoeverTurnedOnDebugWantsEveryOne()
    {
        using var route = new KafkaLogRoute(_logger, _time);

        for (var i = 0; i < 5; i++)
        {
            route.Log(new LogMessage("rdkafka#producer-1", SyslogLevel.Debug, "FETCH", "Fetch backoff for 500ms"));
        }

        Assert.Equal(5, _logger.Entries.Count);
    }

    [Fact]
    public void LinesBelowTheLoggersLevel_AreNeitherWrittenNorCounted()
    {
        var logger = new CapturingLogger(LogLevel.Critical);
        using var route = new KafkaLogRoute(logger, _time);

        route.Log(Resolve(0));
        _time.Advance(KafkaLogRoute.DefaultWindow);

        Assert.Empty(logger.Entries);
    }

    [Theory]
    [InlineData("  sasl.password = [redacted]", "  sasl.password = [redacted]")]
    [InlineData("  sasl.oauthbearer.client.credentials.client.secret = s3cr3t-value", "  sasl.oauthbearer.client.credentials.client.secret = [redacted]")]
    [InlineData("  sasl.oauthbearer.token.endpoint.url = https://id:s3cr3t@idp.example/token", "  sasl.oauthbearer.token.endpoint.url = https://[redacted]@idp.example/token")]
    [InlineData("  linger.ms = 5", "  linger.ms = 5")]
    public void ConfigurationDump_SecretsAreMasked_EvenWhereLibrdkafkaDoesNot(string line, string expected)
    {
        using var route = new KafkaLogRoute(_logger, _time);

        route.Log(new LogMessage("rdkafka#producer-1", SyslogLevel.Debug, "CONF", line));

        Assert.Equal($"librdkafka rdkafka#producer-1 CONF: {expected}", Assert.Single(_logger.Messages));
    }

    [Fact]
    public void LogTo_RoutesAClientsLinesThroughTheRoute()
    {
        var logger = new CapturingLogger(LogLevel.Debug);
        var config = new ProducerConfig { BootstrapServers = "localhost:1", Debug = "conf", SaslPassword = "pa55word-for-test" };

        using (new ProducerBuilder<string, string>(config).LogTo(logger).Build())
        {
        }

        Assert.Contains(logger.Messages, m => m.Contains("CONF", StringComparison.Ordinal) && m.Contains("sasl.password = [redacted]", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Messages, m => m.Contains("pa55word-for-test", StringComparison.Ordinal));
    }

    [Fact]
    public void LogErrorsTo_AClientThatCannotConnect_LogsEachErrorOnce_AndHandsEveryOneToTheCallback()
    {
        var seen = 0;
        var config = new ConsumerConfig { BootstrapServers = "localhost:1", GroupId = "g", ReconnectBackoffMs = 1, ReconnectBackoffMaxMs = 10 };
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(config).LogErrorsTo(_logger, (_, _) => seen++, _time).Build())
        {
            consumer.Subscribe("t");
            var polling = System.Diagnostics.Stopwatch.StartNew();
            while (seen < 6 && polling.Elapsed < TimeSpan.FromSeconds(30))
            {
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            }

            consumer.Close();
        }

        Assert.True(seen >= 6, $"librdkafka reported {seen} errors");
        var keys = _logger.Messages.Select(RepeatSuppressor.KeyOf).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);
        Assert.True(keys.Count < seen, $"{keys.Count} lines for {seen} errors");
    }
}
