using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;

namespace Orders.Processor.UnitTests;

public sealed class FailureHandlingTests
{
    public static TheoryData<Exception, FailureKind> Classifications() => new()
    {
        { new PoisonRecordException("bad magic"), FailureKind.Poison },
        { new InvalidOrderException("negative price"), FailureKind.Invalid },
        { new RegistryUnavailableException("refused", new HttpRequestException("refused")), FailureKind.RegistryUnavailable },
        { new SimulatedTransientException("flaky"), FailureKind.Transient },
        { new TimeoutException("downstream timeout"), FailureKind.Transient },
        { new InvalidOperationException("bug"), FailureKind.Transient },
    };

    [Theory]
    [MemberData(nameof(Classifications))]
    public void Classify_MapsEachExceptionToItsFailureClass(Exception error, FailureKind expected) =>
        Assert.Equal(expected, FailureClassifier.Classify(error));

    [Theory]
    [InlineData(FailureKind.Poison, "poison")]
    [InlineData(FailureKind.Invalid, "invalid")]
    [InlineData(FailureKind.Transient, "retries-exhausted")]
    public void ReasonFor_NamesTheDeadLetterReason(FailureKind kind, string reason) =>
        Assert.Equal(reason, DeadLetterMessages.ReasonFor(kind));

    [Fact]
    public void ReasonFor_RegistryOutage_IsNeverDeadLettered() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DeadLetterMessages.ReasonFor(FailureKind.RegistryUnavailable));

    [Fact]
    public void Build_KeepsOriginalBytesAndHeaders_AndAddsEveryDiagnostic()
    {
        var original = new Headers { { "trace-id", Encoding.UTF8.GetBytes("abc") }, { "dlq.reason", Encoding.UTF8.GetBytes("stale") } };
        var record = new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset("orders", 3, 1234),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = [1, 2, 3],
                Value = [0, 0, 0, 0, 7, 42],
                Headers = original,
                Timestamp = new Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123)),
            },
        };
        var failedAt = new DateTimeOffset(2026, 11, 25, 10, 11, 12, 345, TimeSpan.Zero);

        var message = DeadLetterMessages.Build(record, "order-processor", "retries-exhausted", Thrown(new TimeoutException("slow")), 3, failedAt);

        Assert.Equal(record.Message.Key, message.Key);
        Assert.Equal(record.Message.Value, message.Value);
        string Header(string key) => Encoding.UTF8.GetString(message.Headers.GetLastBytes(key));
        Assert.Equal("abc", Header("trace-id"));
        Assert.Equal("orders", Header(DeadLetterHeaders.OriginalTopic));
        Assert.Equal("3", Header(DeadLetterHeaders.OriginalPartition));
        Assert.Equal("1234", Header(DeadLetterHeaders.OriginalOffset));
        Assert.Equal("1700000000123", Header(DeadLetterHeaders.OriginalTimestamp));
        Assert.Equal("order-processor", Header(DeadLetterHeaders.ConsumerGroup));
        Assert.Equal("retries-exhausted", Header(DeadLetterHeaders.Reason));
        Assert.Equal("System.TimeoutException", Header(DeadLetterHeaders.ErrorType));
        Assert.Equal("slow", Header(DeadLetterHeaders.ErrorMessage));
        Assert.Contains(nameof(Thrown), Header(DeadLetterHeaders.ErrorStackTrace), StringComparison.Ordinal);
        Assert.Equal("3", Header(DeadLetterHeaders.Attempts));
        Assert.Equal("2026-11-25T10:11:12.345Z", Header(DeadLetterHeaders.FailedAt));
        Assert.Equal(failedAt, DateTimeOffset.Parse(Header(DeadLetterHeaders.FailedAt), CultureInfo.InvariantCulture));
        Assert.Single(message.Headers, h => h.Key == "dlq.reason");
    }

    [Fact]
    public void Build_BoundsTheStackTrace()
    {
        var record = new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset("orders", 0, 1),
            Message = new Message<byte[]?, byte[]?> { Value = [1] },
        };

        var message = DeadLetterMessages.Build(record, "g", "poison", new PoisonRecordException(new string('x', 20_000)), 1, DateTimeOffset.UnixEpoch);

        Assert.Equal(DeadLetterHeaders.MaxStackTraceLength, message.Headers.GetLastBytes(DeadLetterHeaders.ErrorStackTrace).Length);
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}
