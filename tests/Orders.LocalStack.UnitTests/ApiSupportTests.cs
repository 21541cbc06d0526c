using System.Buffers.Binary;
using Orders.LocalStack.Kafka;
using Orders.LocalStack.Kafka.Admin;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.UnitTests;

public sealed class ApiSupportTests
{
    // A subset of what librdkafka 2.16.0's mock advertises.
    private static readonly Dictionary<short, (short, short)> Mock = new()
    {
        [(short)KafkaApiKey.Produce] = (0, 10),
        [(short)KafkaApiKey.Fetch] = (0, 16),
        [(short)KafkaApiKey.Metadata] = (0, 12),
        [(short)KafkaApiKey.LeaveGroup] = (0, 4),
        [(short)KafkaApiKey.ApiVersions] = (0, 2),
    };

    private readonly ApiSupport _apis = new(Mock, LocalAdminApi.Versions);

    [Fact]
    public void Route_BeforeTheFixedHeaderHasArrived_NeedsMore_ThenForwardsWithTheHeaderFields()
    {
        var frame = Frames.Request(KafkaApiKey.Metadata, 9, correlationId: 42);

        for (var length = 0; length < RequestHeader.FixedLength; length++)
        {
            Assert.Equal(RequestRoute.NeedMore, _apis.Route(frame.AsSpan(0, length), out _));
        }

        Assert.Equal(RequestRoute.Forward, _apis.Route(frame.AsSpan(0, RequestHeader.FixedLength), out var request));
        Assert.Equal(new RequestInfo((short)KafkaApiKey.Metadata, 9, 42, frame.Length, null), request);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(9)]
    public void Route_ProduceWithAcksZero_ForwardsWithoutWaitingForAResponse(short version) =>
        Assert.Equal(RequestRoute.ForwardWithoutResponse, _apis.Route(Frames.Produce(version, acks: 0, transactionalId: version >= 3 ? "txn-1" : null), out _));

    [Theory]
    [InlineData(3, -1)]
    [InlineData(9, 1)]
    public void Route_ProduceWithAcks_ForwardsAndExpectsAResponse(short version, short acks) =>
        Assert.Equal(RequestRoute.Forward, _apis.Route(Frames.Produce(version, acks), out _));

    [Fact]
    public void Route_ProduceWhileATopicHasAMaxMessageBytes_IsReadWhole_AndPassesUnreadOnceNoneHas()
    {
        var configs = new TopicConfigs();
        var apis = new ApiSupport(Mock, LocalAdminApi.Versions, configs);
        var frame = Frames.Produce(9, acks: -1);

        configs.Replace("small", new Dictionary<string, string> { ["max.message.bytes"] = "1000" });
        Assert.Equal(RequestRoute.Inspect, apis.Route(frame, out _));

        configs.Replace("small", new Dictionary<string, string> { ["retention.ms"] = "1000" });
        Assert.Equal(RequestRoute.Forward, apis.Route(frame, out _));
    }

    [Fact]
    public void Route_ProduceCutBeforeItsAcks_NeedsMore()
    {
        var frame = Frames.Produce(9, acks: 0, transactionalId: "a-long-transactional-id");

        Assert.Equal(RequestRoute.NeedMore, _apis.Route(frame.AsSpan(0, 20), out _));
    }

    [Theory]
    [InlineData(KafkaApiKey.CreateTopics, 0)]
    [InlineData(KafkaApiKey.CreateTopics, 7)]
    [InlineData(KafkaApiKey.DeleteTopics, 6)]
    [InlineData(KafkaApiKey.DescribeConfigs, 4)]
    [InlineData(KafkaApiKey.AlterConfigs, 2)]
    [InlineData(KafkaApiKey.IncrementalAlterConfigs, 1)]
    public void Route_AdminApisTheMockLacks_AreServedLocally(KafkaApiKey apiKey, short version) =>
        Assert.Equal(RequestRoute.Serve, _apis.Route(Frames.Request(apiKey, version, 1), out _));

    [Fact]
    public void Route_LocalApiAtAnUnsupportedVersion_RejectsNamingTheApiAndRange()
    {
        Assert.Equal(RequestRoute.Reject, _apis.Route(Frames.Request(KafkaApiKey.CreateTopics, 8, 1), out var request));
        Assert.Equal("CreateTopics (19) v8, which is not supported (v0 to v7)", request.RejectReason);
    }

    [Fact]
    public void Route_UnknownApiKey_Rejects()
    {
        Assert.Equal(RequestRoute.Reject, _apis.Route(Frames.Request((KafkaApiKey)999, 0, 1), out var request));
        Assert.Equal("unknown or unsupported API key 999", request.RejectReason);
    }

    [Fact]
    public void Route_ApiVersionsAtAFutureVersion_IsForwarded_SoTheMockAnswersWithItsRange() =>
        Assert.Equal(RequestRoute.Forward, _apis.Route(Frames.Request(KafkaApiKey.ApiVersions, 4, 1), out _));

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(ApiSupport.MaxFrameSize)]
    [InlineData(int.MaxValue)]
    public void Route_FrameSizeNoRequestCanHave_Rejects(int size)
    {
        var frame = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);

        Assert.Equal(RequestRoute.Reject, _apis.Route(frame, out var request));
        Assert.Contains($"a request frame of {size} bytes", request.RejectReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Advertised_CapsLeaveGroupAtV2_TheLastLayoutTheMockAnswersCorrectly() =>
        Assert.Contains(((short)KafkaApiKey.LeaveGroup, (short)0, (short)2), _apis.Advertised);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void RewriteApiVersions_AddsTheLocalApis_KeepsTheMocksAndTheThrottleTime(short version)
    {
        var writer = KafkaWriter.Response(correlationId: 5, flexibleHeader: false);
        writer.WriteInt16(0);
        writer.WriteArrayLength(2, compact: false);
        foreach (var (key, max) in new[] { ((short)0, (short)10), ((short)3, (short)12) })
        {
            writer.WriteInt16(key);
            writer.WriteInt16(0);
            writer.WriteInt16(max);
        }

        if (version >= 1)
        {
            writer.WriteInt32(250);
        }

        var rewritten = _apis.RewriteApiVersions(writer.ToFrame(), version)!;

        var reader = new KafkaReader(rewritten.AsSpan(4));
        Assert.Equal(rewritten.Length - 4, BinaryPrimitives.ReadInt32BigEndian(rewritten));
        Assert.Equal(5, reader.ReadInt32());
        Assert.Equal(0, reader.ReadInt16());
        var apis = new List<(short, short, short)>();
        for (var count = reader.ReadArrayLength(compact: false); count > 0; count--)
        {
            apis.Add((reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16()));
        }

        Assert.Equal(_apis.Advertised.ToList(), apis);
        Assert.Contains(((short)KafkaApiKey.CreateTopics, (short)0, (short)7), apis);
        Assert.Contains(((short)KafkaApiKey.DeleteTopics, (short)0, (short)6), apis);
        if (version >= 1)
        {
            Assert.Equal(250, reader.ReadInt32());
        }

        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void RewriteApiVersions_ErrorResponse_PassesUnchanged()
    {
        var writer = KafkaWriter.Response(correlationId: 5, flexibleHeader: false);
        writer.WriteInt16(35); // UNSUPPORTED_VERSION, with the supported range in v0 layout
        writer.WriteArrayLength(0, compact: false);

        Assert.Null(_apis.RewriteApiVersions(writer.ToFrame(), 3));
    }
}
