using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

/// <summary>A truncated letter is replayed from its original record, which must be read first.</summary>
public sealed class TruncatedLetterTests
{
    [Fact]
    public void OriginalUnreadable_BecauseTheClusterDoesNotAnswer_FailsTheLetter_ForARerun()
    {
        // A port nothing listens on: every request of the reader fails after its timeout, as with a cluster that is away.
        var config = new ConsumerConfig { BootstrapServers = "127.0.0.1:1", GroupId = "order-processor" };
        using var reader = new TopicReader(config, TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance);
        var replayer = new DeadLetterReplayer(reader, new ProducerConfig { BootstrapServers = "127.0.0.1:1" }, TimeProvider.System, NullLogger.Instance);
        var letter = Letters.Make(0, 3, originalPartition: 2, originalOffset: 17, extra: [Letters.Text(DeadLetterHeaders.Truncated, "value 2000000 bytes")]);

        var decision = replayer.ReadOriginal(new ReplayDecision(letter, ReplayOutcome.Replay), out var original, TestContext.Current.CancellationToken);

        Assert.Equal(ReplayOutcome.Failed, decision.Outcome);
        Assert.Contains("its original orders/2@17 could not be read", decision.Detail, StringComparison.Ordinal);
        Assert.Contains("a rerun tries again", decision.Detail, StringComparison.Ordinal);
        Assert.Null(original);
    }
}
