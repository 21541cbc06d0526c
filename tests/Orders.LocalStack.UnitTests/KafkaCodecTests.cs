using Orders.LocalStack.Kafka.Admin;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.UnitTests;

public sealed class KafkaCodecTests
{
    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(16384u, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void UnsignedVarint_MatchesTheProtocolEncoding(uint value, byte[] encoded)
    {
        var writer = new KafkaWriter();
        writer.WriteUnsignedVarint(value);
        var reader = new KafkaReader(encoded);

        Assert.Equal(encoded, writer.Written.ToArray());
        Assert.Equal(value, reader.ReadUnsignedVarint());
    }

    [Fact]
    public void CompactStrings_AreLengthPlusOne_WithZeroForNull()
    {
        var writer = new KafkaWriter();
        writer.WriteString("ab", compact: true);
        writer.WriteNullableString(null, compact: true);
        writer.WriteNullableString(null, compact: false);

        Assert.Equal(new byte[] { 0x03, (byte)'a', (byte)'b', 0x00, 0xFF, 0xFF }, writer.Written.ToArray());
    }

    [Fact]
    public void ReadArrayLength_CountLargerThanTheBytesLeft_IsMalformed_NotAnAllocation()
    {
        byte[] bytes = [0x7F, 0xFF, 0xFF, 0xFF, 0x00];

        var error = Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadArrayLength(compact: false));
        Assert.Contains("2147483647 elements", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadingPastTheEnd_IsMalformed() =>
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader([0x00, 0x01]).ReadInt32());

    [Fact]
    public void CreateTopicsV0_FromTheSpecsLayout_IsParsed()
    {
        // CreateTopics v0: topics [name, num_partitions, replication_factor, assignments [], configs [(name, value)]], timeout_ms.
        byte[] frame =
        [
            0, 0, 0, 0, 0, 19, 0, 0, 0, 0, 0, 9, 0, 1, (byte)'c',
            0, 0, 0, 1, 0, 3, (byte)'t', (byte)'o', (byte)'p', 0, 0, 0, 6, 0, 2, 0, 0, 0, 0,
            0, 0, 0, 1, 0, 14, .. "cleanup.policy"u8, 0, 7, .. "compact"u8,
            0, 0, 0x75, 0x30,
        ];
        var reader = new KafkaReader(frame.AsSpan(4));
        var header = RequestHeader.Read(ref reader);

        var request = CreateTopicsRequest.Read(ref reader, header);

        Assert.Equal(new RequestHeader(19, 0, 9, "c"), header);
        var topic = Assert.Single(request.Topics);
        Assert.Equal(("top", 6, (short)2), (topic.Name, topic.NumPartitions, topic.ReplicationFactor));
        Assert.Equal([("cleanup.policy", (string?)"compact")], topic.Configs);
        Assert.False(request.ValidateOnly);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void CreateTopicsV5_FlexibleLayout_IsParsed()
    {
        // v5: header v2 (tagged fields), compact arrays and strings, tagged fields after each struct.
        byte[] frame =
        [
            0, 0, 0, 0, 0, 19, 0, 5, 0, 0, 0, 9, 0xFF, 0xFF, 0,
            2, 4, (byte)'t', (byte)'o', (byte)'p', 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0,
            0, 0, 0x75, 0x30, 1, 0,
        ];
        var reader = new KafkaReader(frame.AsSpan(4));
        var header = RequestHeader.Read(ref reader);

        var request = CreateTopicsRequest.Read(ref reader, header);

        Assert.Equal(new RequestHeader(19, 5, 9, null), header);
        var topic = Assert.Single(request.Topics);
        Assert.Equal(("top", -1, (short)-1), (topic.Name, topic.NumPartitions, topic.ReplicationFactor));
        Assert.Empty(topic.Configs);
        Assert.True(request.ValidateOnly);
        Assert.Equal(1, reader.Remaining); // the request's own tagged fields
    }

    [Theory]
    [InlineData("", "Topic name is illegal, it can't be empty")]
    [InlineData(".", "Topic name cannot be \".\" or \"..\"")]
    [InlineData("..", "Topic name cannot be \".\" or \"..\"")]
    [InlineData("a b", "Topic name \"a b\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")]
    [InlineData("é", "Topic name \"é\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")]
    public void TopicNames_IllegalNames_GetKafkasMessages(string name, string message) =>
        Assert.Equal(message, TopicNames.Validate(name));

    [Fact]
    public void TopicNames_LongerThan249_IsIllegal_249IsFine()
    {
        Assert.Null(TopicNames.Validate(new string('a', 249)));
        Assert.StartsWith("Topic name is illegal, it can't be longer than 249 characters", TopicNames.Validate(new string('a', 250)), StringComparison.Ordinal);
    }

    [Fact]
    public void TopicNames_DotAndUnderscoreVariants_Collide() =>
        Assert.Equal("orders_dlq", TopicNames.Collision("orders.dlq", ["orders", "orders_dlq"]));

    [Fact]
    public void MockConfigs_OnlyTheValuesTheMockApplies_AreAccepted()
    {
        var refused = MockConfigs.Unappliable(MockConfigs.Topic, [("cleanup.policy", "delete"), ("retention.bytes", "5242880"), ("cleanup.policy", "compact"), ("segment.ms", "1000"), ("retention.ms", null)]);

        Assert.Equal(["cleanup.policy=compact", "segment.ms=1000"], refused);
    }
}
