using Confluent.Kafka;
using Orders.LocalStack.Kafka;
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
    public void TopicConfigs_TheMocksFixedLimits_AcceptOnlyTheirValue_OthersAreKept()
    {
        Assert.Null(TopicConfigs.Validate([("cleanup.policy", "compact"), ("retention.bytes", "5242880"), ("retention.ms", "1000"), ("segment.ms", "1000"), ("min.insync.replicas", null)]));

        var refused = TopicConfigs.Validate([("cleanup.policy", "compact"), ("retention.bytes", "-1"), ("compression.type", "zstd")]);

        Assert.Equal(ErrorCode.PolicyViolation, refused!.Value.Error);
        Assert.Contains("cannot apply retention.bytes=-1, compression.type=zstd", refused.Value.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no.such", "1", "Unknown topic config name: no.such")]
    [InlineData("cleanup.policy", "", "Invalid value  for configuration cleanup.policy: Empty list")]
    [InlineData("min.insync.replicas", "0", "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1")]
    [InlineData("min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be between 0 and 1")]
    [InlineData("compression.type", "brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer")]
    public void TopicConfigs_UnknownNamesAndBadValues_AreInvalidConfig_AsKafkaSaysIt(string name, string value, string message)
    {
        var refused = TopicConfigs.Validate([(name, value)]);

        Assert.Equal((ErrorCode.InvalidConfig, message), refused);
    }

    [Fact]
    public void TopicConfigs_TimeRetention_OnlyForTopicsThatDeleteWithARetention()
    {
        var configs = new TopicConfigs();
        configs.Replace("kept", new Dictionary<string, string> { ["retention.ms"] = "60000", ["cleanup.policy"] = "compact" });
        configs.Replace("deleted", new Dictionary<string, string> { ["retention.ms"] = "60000" });
        configs.Replace("forever", new Dictionary<string, string> { ["retention.ms"] = "-1" });
        configs.Replace("both", new Dictionary<string, string> { ["retention.ms"] = "0", ["cleanup.policy"] = "compact,delete" });

        Assert.Equal(new Dictionary<string, TimeSpan> { ["deleted"] = TimeSpan.FromMinutes(1), ["both"] = TimeSpan.Zero }, configs.TimeRetention());
        Assert.Equal("compact", configs.Describe("kept").Single(c => c.Name == "cleanup.policy").Value);
        Assert.True(configs.Describe("kept").Single(c => c.Name == "cleanup.policy").IsSet);
        Assert.False(configs.Describe("kept").Single(c => c.Name == "segment.ms").IsSet);
    }

    [Theory]
    [InlineData("3.9", false)]
    [InlineData("3.0", false)]
    [InlineData("4.0", true)]
    [InlineData("4.1", true)]
    public void KafkaVersion_OffersKip848From4(string version, bool kip848) =>
        Assert.Equal(kip848, KafkaVersion.Parse(version).HasConsumerGroupProtocol);

    [Theory]
    [InlineData("2.8")]
    [InlineData("5.0")]
    [InlineData("three")]
    [InlineData("4")]
    public void KafkaVersion_OtherThan3Or4_IsRefused(string version) =>
        Assert.Throws<FormatException>(() => KafkaVersion.Parse(version));
}
