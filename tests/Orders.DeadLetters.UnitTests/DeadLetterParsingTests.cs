using System.Text;
using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

public sealed class DeadLetterParsingTests
{
    [Fact]
    public void From_ReadsEveryDiagnosticTheProcessorWrites()
    {
        var letter = Letters.Make(2, 17, originalPartition: 1, originalOffset: 1234);

        Assert.Equal(new RecordPosition("orders", 1, 1234), letter.Original);
        Assert.Null(letter.Problem);
        Assert.Equal(DeadLetterHeaders.ReasonRetriesExhausted, letter.Reason);
        Assert.Equal("Orders.Processor.SimulatedTransientException", letter.ErrorType);
        Assert.Equal("simulated transient failure", letter.ErrorMessage);
        Assert.Equal("order-processor", letter.ConsumerGroup);
        Assert.Equal(3, letter.Attempts);
        Assert.Equal(Letters.FailedAt, letter.FailedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), letter.OriginalTimestamp);
    }

    [Fact]
    public void Summary_KeepsWhatAListShows_AndLeavesTheRecordOut()
    {
        var letter = Letters.Make(2, 17, originalPartition: 1, originalOffset: 1234, extra: [Letters.Text(DeadLetterHeaders.Truncated, "value 2000000 bytes"), Letters.Text("traceparent", "00-x")]);

        var summary = letter.Summary();

        Assert.True(summary.IsSummary);
        Assert.False(letter.IsSummary);
        Assert.Equal(
            (letter.Position, letter.Timestamp, letter.Original, letter.Problem, letter.Reason, letter.ErrorType, letter.ErrorMessage, letter.ConsumerGroup, letter.Attempts, letter.FailedAt, letter.OriginalTimestamp, letter.Truncated),
            (summary.Position, summary.Timestamp, summary.Original, summary.Problem, summary.Reason, summary.ErrorType, summary.ErrorMessage, summary.ConsumerGroup, summary.Attempts, summary.FailedAt, summary.OriginalTimestamp, summary.Truncated));
        Assert.Null(summary.Key);
        Assert.Null(summary.Value);
        Assert.Null(summary.Header(DeadLetterHeaders.ErrorStackTrace));
        Assert.Null(summary.Header("traceparent"));
    }

    [Fact]
    public void Summary_OfALetterWithAMalformedOrigin_KeepsWhy()
    {
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 5), Letters.FailedAt, null, [1], [Letters.Text(DeadLetterHeaders.OriginalTopic, "orders")]);

        Assert.Equal(("no dlq.original.partition, dlq.original.offset header", null), (letter.Summary().Problem, letter.Summary().Original));
    }

    [Fact]
    public void Summary_KeepsTheLastOfARepeatedHeader()
    {
        var letter = Letters.Make(0, 0, extra: [Letters.Text(DeadLetterHeaders.Reason, "poison")]);

        Assert.Equal(letter.Reason, letter.Summary().Reason);
    }

    [Fact]
    public void From_NoOriginHeaders_NamesWhatIsMissing_AndHasNoOriginal()
    {
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 5), Letters.FailedAt, null, [1], [Letters.Text(DeadLetterHeaders.OriginalTopic, "orders")]);

        Assert.Null(letter.Original);
        Assert.Equal("no dlq.original.partition, dlq.original.offset header", letter.Problem);
        Assert.Null(letter.Reason);
        Assert.Null(letter.Attempts);
    }

    [Theory]
    [InlineData("orders", "-1", "7", "dlq.original.partition '-1' is not a partition number")]
    [InlineData("orders", "1", "seven", "dlq.original.offset 'seven' is not an offset")]
    [InlineData("orders", "1", "9223372036854775807", "dlq.original.offset '9223372036854775807' is not an offset")]
    [InlineData("orders/eu", "1", "7", "dlq.original.topic: 'orders/eu' is not a legal topic name: use letters, digits, '.', '_' and '-'")]
    public void From_MalformedOrigin_SaysWhy(string topic, string partition, string offset, string problem)
    {
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 5), Letters.FailedAt, null, null,
        [
            Letters.Text(DeadLetterHeaders.OriginalTopic, topic),
            Letters.Text(DeadLetterHeaders.OriginalPartition, partition),
            Letters.Text(DeadLetterHeaders.OriginalOffset, offset),
        ]);

        Assert.Null(letter.Original);
        Assert.Equal(problem, letter.Problem);
    }

    [Theory]
    [InlineData(253_402_300_800_000L)]
    [InlineData(long.MinValue)]
    public void From_ARecordWhoseTimestampNoDateHolds_ReadsItAsTheEpoch_InsteadOfFailingTheWholeRead(long unixMs)
    {
        var record = new Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>
        {
            Topic = "orders_dlq",
            Partition = 0,
            Offset = 3,
            Message = new Confluent.Kafka.Message<byte[]?, byte[]?> { Timestamp = new Confluent.Kafka.Timestamp(unixMs, Confluent.Kafka.TimestampType.CreateTime), Headers = [] },
        };

        var letter = DeadLetter.From(record);

        Assert.Equal(DateTimeOffset.UnixEpoch, letter.Timestamp);
        Assert.Equal(DateTimeOffset.UnixEpoch, letter.FailedAt);
    }

    [Fact]
    public void Header_TheLastValueWins_AsInKafka()
    {
        var letter = Letters.Make(0, 0, extra: [Letters.Text(DeadLetterHeaders.Reason, "stale")]);

        Assert.Equal(DeadLetterHeaders.ReasonRetriesExhausted, letter.Reason);
    }

    [Fact]
    public void FailedAt_WithoutTheHeader_IsTheRecordTimestamp()
    {
        var written = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 0), written, null, null, [Letters.Text(DeadLetterHeaders.FailedAt, "yesterday")]);

        Assert.Equal(written, letter.FailedAt);
    }

    [Theory]
    [InlineData("10:00")]
    [InlineData("Jan 5")]
    [InlineData("2026-12-07")]
    [InlineData("12/07/2026 10:00")]
    [InlineData("2026-12-07 10:00:00")]
    public void FailedAt_NotAnIso8601DateAndTime_IsTheRecordTimestamp(string text)
    {
        var written = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 0), written, null, null, [Letters.Text(DeadLetterHeaders.FailedAt, text)]);

        Assert.Equal(written, letter.FailedAt);
    }

    [Theory]
    [InlineData("2026-12-07T10:00:01.250Z", "2026-12-07T10:00:01.2500000+00:00")]
    [InlineData("2026-12-07T10:00:01Z", "2026-12-07T10:00:01.0000000+00:00")]
    [InlineData("2026-12-07T10:00:01.1234567Z", "2026-12-07T10:00:01.1234567+00:00")]
    [InlineData("2026-12-07T11:00:01+01:00", "2026-12-07T10:00:01.0000000+00:00")]
    [InlineData("2026-12-07T10:00:01", "2026-12-07T10:00:01.0000000+00:00")]
    [InlineData("2026-12-07T10:00Z", "2026-12-07T10:00:00.0000000+00:00")]
    public void FailedAt_Iso8601_IsRead_InUtc(string text, string expected)
    {
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 0), DateTimeOffset.UnixEpoch, null, null, [Letters.Text(DeadLetterHeaders.FailedAt, text)]);

        Assert.Equal(expected, letter.FailedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void HeaderText_IsNullForBytesThatAreNotUtf8()
    {
        Assert.Null(new RecordHeader("blob", [0xff, 0xfe]).Text);
        Assert.Null(new RecordHeader("none", null).Text);
        Assert.Equal("é", new RecordHeader("text", Encoding.UTF8.GetBytes("é")).Text);
    }

    [Theory]
    [InlineData("orders_dlq/3@1234", "orders_dlq", 3, 1234)]
    [InlineData("a.b-c_d/0@0", "a.b-c_d", 0, 0)]
    public void RecordPosition_RoundTripsThroughText(string text, string topic, int partition, long offset)
    {
        Assert.True(RecordPosition.TryParse(text, out var position));
        Assert.Equal(new RecordPosition(topic, partition, offset), position);
        Assert.Equal(text, position.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("orders_dlq@3")]
    [InlineData("/3@1")]
    [InlineData("orders/-3@1")]
    [InlineData("orders/3@")]
    [InlineData("orders/3@x")]
    [InlineData("orders/3")]
    public void RecordPosition_RejectsOtherText(string? text) =>
        Assert.False(RecordPosition.TryParse(text, out _));
}
