using System.Buffers.Binary;
using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.IntegrationTests;

/// <summary>The protocol-aware relay seen from a raw socket: ordering, framing, bad frames, the controller.</summary>
public sealed class RelayProtocolTests : IAsyncLifetime
{
    // A cluster of its own: these tests set brokers down and slow them.
    private readonly CapturingLoggerFactory _logs = new();
    private LocalKafka _kafka = null!;

    public ValueTask InitializeAsync()
    {
        _kafka = LocalKafka.Start(new LocalKafkaOptions { Brokers = 2, Port = 0, RetentionCheckInterval = TimeSpan.Zero }, _logs);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task ALocalResponse_WaitsForTheResponsesOfEarlierForwardedRequests()
    {
        // Broker 2 answers forwarded requests 300 ms late; the relay answers CreateTopics at once (it
        // asks broker 1, the first live one, which topics exist).
        _kafka.Cluster.SetBrokerRoundTripTime(2, TimeSpan.FromMilliseconds(300));
        using var socket = await ConnectAsync(broker: 2);
        var topic = StackFixture.Unique("ordered");

        await SendAsync(socket, [.. Metadata(correlationId: 1), .. CreateTopics(correlationId: 2, topic, partitions: 2), .. Metadata(correlationId: 3)]);

        var order = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            order.Add(CorrelationId(await ReceiveAsync(socket)));
        }

        Assert.Equal([1, 2, 3], order);
    }

    [Fact]
    public async Task ARequestArrivingOneByteAtATime_IsServed()
    {
        using var socket = await ConnectAsync(broker: 2);
        var topic = StackFixture.Unique("bytewise");
        var request = CreateTopics(correlationId: 9, topic, partitions: 3);

        foreach (var b in request)
        {
            await SendAsync(socket, [b]);
        }

        var response = await ReceiveAsync(socket);
        Assert.Equal(9, CorrelationId(response));
        Assert.Equal(3, AdminClient().GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count);
    }

    [Fact]
    public async Task ApiVersions_AdvertisesTheAdminApisServedByTheRelay()
    {
        using var socket = await ConnectAsync(broker: 1);
        var request = new KafkaWriter();
        request.WriteInt32(0);
        request.WriteInt16((short)KafkaApiKey.ApiVersions);
        request.WriteInt16(2);
        request.WriteInt32(4);
        request.WriteString("raw", compact: false);

        await SendAsync(socket, request.ToFrame());
        var response = await ReceiveAsync(socket);

        var apis = ApiSupport.ParseApiVersions(response.AsSpan(8));
        Assert.Equal(((short)0, (short)7), apis[(short)KafkaApiKey.CreateTopics]);
        Assert.Equal(((short)0, (short)6), apis[(short)KafkaApiKey.DeleteTopics]);
        Assert.Equal(((short)0, (short)4), apis[(short)KafkaApiKey.DescribeConfigs]);
        Assert.Equal(((short)0, (short)2), apis[(short)KafkaApiKey.AlterConfigs]);
        Assert.Equal(((short)0, (short)1), apis[(short)KafkaApiKey.IncrementalAlterConfigs]);
        Assert.True(apis.ContainsKey((short)KafkaApiKey.Fetch));
    }

    [Theory]
    [InlineData("unknown API key")]
    [InlineData("negative size")]
    [InlineData("garbage CreateTopics body")]
    public async Task ABadFrame_ClosesOnlyThatConnection_AndIsLoggedOnce_OtherClientsKeepWorking(string kind)
    {
        using var other = await ConnectAsync(broker: 1);
        using var bad = await ConnectAsync(broker: 1);
        byte[] frame = kind switch
        {
            "unknown API key" => Request(apiKey: 999, version: 0, correlationId: 1, []),
            "negative size" => [0xFF, 0xFF, 0xFF, 0xFB, 0, 0, 0, 0],
            _ => Request((short)KafkaApiKey.CreateTopics, 0, 1, [0x7F, 0xFF, 0xFF, 0xFF]),
        };

        await SendAsync(bad, frame);
        var closed = await bad.ReceiveAsync(new byte[16], SocketFlags.None, TestContext.Current.CancellationToken);
        await SendAsync(other, Metadata(correlationId: 5));
        var answer = await ReceiveAsync(other);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        var delivered = await producer.ProduceAsync(StackFixture.Unique("after-bad-frame"), new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken);

        Assert.Equal(0, closed);
        Assert.Equal(5, CorrelationId(answer));
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        var warning = Assert.Single(_logs.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("closed the connection", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheController_IsALiveBroker_AndMovesWhenItIsSetDown()
    {
        using var admin = AdminClient();
        var before = (await admin.DescribeClusterAsync()).Controller?.Id;

        _kafka.Cluster.SetBrokerDown(1);
        // A new client: requests in flight to the broker set down fail, and librdkafka's admin does not retry them.
        using var survivor = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = $"127.0.0.1:{_kafka.Ports[1]}" }).Build();
        var whileDown = (await survivor.DescribeClusterAsync()).Controller?.Id;
        var topic = StackFixture.Unique("controller-down");
        await survivor.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }]);
        _kafka.Cluster.SetBrokerUp(1);

        Assert.Equal(1, before);
        Assert.Equal(2, whileDown);
        Assert.Equal(2, admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count);
    }

    private IAdminClient AdminClient() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();

    private async Task<Socket> ConnectAsync(int broker)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", _kafka.Ports[broker - 1], TestContext.Current.CancellationToken);
        return socket;
    }

    private static byte[] Request(short apiKey, short version, int correlationId, byte[] body, bool flexible = false)
    {
        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteInt16(apiKey);
        writer.WriteInt16(version);
        writer.WriteInt32(correlationId);
        writer.WriteString("raw-socket", compact: false);
        if (flexible)
        {
            writer.WriteEmptyTaggedFields();
        }

        writer.WriteBytes(body);
        return writer.ToFrame();
    }

    /// <summary>Metadata v1 for no topics (brokers and controller only).</summary>
    private static byte[] Metadata(int correlationId) => Request((short)KafkaApiKey.Metadata, 1, correlationId, [0, 0, 0, 0]);

    /// <summary>CreateTopics v5 (flexible) for one topic.</summary>
    private static byte[] CreateTopics(int correlationId, string topic, int partitions)
    {
        var body = new KafkaWriter();
        body.WriteArrayLength(1, compact: true);
        body.WriteString(topic, compact: true);
        body.WriteInt32(partitions);
        body.WriteInt16(1);
        body.WriteArrayLength(0, compact: true);
        body.WriteArrayLength(0, compact: true);
        body.WriteEmptyTaggedFields();
        body.WriteInt32(30_000);
        body.WriteBoolean(false);
        body.WriteEmptyTaggedFields();
        return Request((short)KafkaApiKey.CreateTopics, 5, correlationId, body.Written.ToArray(), flexible: true);
    }

    private static int CorrelationId(byte[] response) => BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(4));

    private static async Task SendAsync(Socket socket, byte[] bytes) =>
        await socket.SendAsync(bytes, SocketFlags.None, TestContext.Current.CancellationToken);

    /// <summary>One whole response frame, size prefix included.</summary>
    private static async Task<byte[]> ReceiveAsync(Socket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        var size = new byte[4];
        await ReceiveExactlyAsync(socket, size, timeout.Token);
        var frame = new byte[4 + BinaryPrimitives.ReadInt32BigEndian(size)];
        size.CopyTo(frame, 0);
        await ReceiveExactlyAsync(socket, frame.AsMemory(4), timeout.Token);
        return frame;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            Assert.True(read > 0, "the relay closed the connection");
            buffer = buffer[read..];
        }
    }
}
