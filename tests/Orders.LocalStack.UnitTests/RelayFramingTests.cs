using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.LocalStack.Kafka;
using Orders.LocalStack.Kafka.Admin;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.UnitTests;

/// <summary>
/// The relay between a client socket and a scripted broker socket, where the test decides how the
/// bytes are cut: frames must come out whole and in order whatever the receive boundaries.
/// </summary>
public sealed class RelayFramingTests : IAsyncDisposable
{
    private static readonly Dictionary<short, (short, short)> BrokerApis = new()
    {
        [(short)KafkaApiKey.Metadata] = (0, 12),
        [(short)KafkaApiKey.ApiVersions] = (0, 2),
    };

    private readonly TcpListener _broker = new(IPAddress.Loopback, 0);
    private readonly ApiSupport _apis = new(BrokerApis, LocalAdminApi.Versions);
    private readonly TcpRelay _relay;
    private readonly CannedLocalResponse _local = new();

    public RelayFramingTests()
    {
        _broker.Start();
        _relay = TcpRelay.Start(0, (IPEndPoint)_broker.LocalEndpoint, new RelayProtocol(_apis, _local, NullLogger.Instance));
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        _broker.Dispose();
    }

    [Fact]
    public async Task ResponsesArrivingOneByteAtATime_ReachTheClientWhole_AndApiVersionsIsRewritten()
    {
        using var client = await ConnectAsync();
        using var broker = await _broker.AcceptSocketAsync(TestContext.Current.CancellationToken);
        byte[] pipelined = [.. Frames.Request(KafkaApiKey.ApiVersions, 2, 1), .. Frames.Request(KafkaApiKey.Metadata, 1, 2)];
        await client.SendAsync(pipelined, SocketFlags.None, TestContext.Current.CancellationToken);
        var requests = await ReceiveFramesAsync(broker, 2);
        var apiVersions = ApiVersionsResponse(correlationId: 1);
        var metadata = MetadataResponse(correlationId: 2);

        foreach (var b in (byte[])[.. apiVersions, .. metadata])
        {
            await broker.SendAsync(new[] { b }, SocketFlags.None, TestContext.Current.CancellationToken);
        }

        var responses = await ReceiveFramesAsync(client, 2);
        Assert.Equal([1, 2], requests.Select(RequestCorrelationId));
        Assert.Equal(_apis.RewriteApiVersions(apiVersions, 2), responses[0]);
        Assert.Equal(metadata, responses[1]);
    }

    [Fact]
    public async Task ALocalRequest_ArrivingWhileAForwardedResponseIsHalfWritten_IsAnsweredAfterThatResponse()
    {
        using var client = await ConnectAsync();
        using var broker = await _broker.AcceptSocketAsync(TestContext.Current.CancellationToken);
        await client.SendAsync(Frames.Request(KafkaApiKey.Metadata, 1, 1), SocketFlags.None, TestContext.Current.CancellationToken);
        await ReceiveFramesAsync(broker, 1);
        var metadata = MetadataResponse(correlationId: 1);

        // The client has the first 10 bytes of the forwarded response when it asks for something local.
        await broker.SendAsync(metadata.AsMemory(0, 10), SocketFlags.None, TestContext.Current.CancellationToken);
        var start = new byte[10];
        await ReceiveExactlyAsync(client, start, TestContext.Current.CancellationToken);
        await client.SendAsync(Frames.Request(KafkaApiKey.CreateTopics, 0, 2), SocketFlags.None, TestContext.Current.CancellationToken);
        await _local.Invoked.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await broker.SendAsync(metadata.AsMemory(10), SocketFlags.None, TestContext.Current.CancellationToken);

        var rest = new byte[metadata.Length - 10];
        await ReceiveExactlyAsync(client, rest, TestContext.Current.CancellationToken);
        var local = (await ReceiveFramesAsync(client, 1))[0];
        Assert.Equal(metadata, start.Concat(rest).ToArray());
        Assert.Equal(2, ResponseCorrelationId(local));
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, _relay.Port, TestContext.Current.CancellationToken);
        return socket;
    }

    private static byte[] ApiVersionsResponse(int correlationId)
    {
        var writer = KafkaWriter.Response(correlationId, flexibleHeader: false);
        writer.WriteInt16(0);
        writer.WriteArrayLength(2, compact: false);
        foreach (var (key, max) in new[] { ((short)3, (short)12), ((short)18, (short)2) })
        {
            writer.WriteInt16(key);
            writer.WriteInt16(0);
            writer.WriteInt16(max);
        }

        writer.WriteInt32(0);
        return writer.ToFrame();
    }

    private static byte[] MetadataResponse(int correlationId)
    {
        var writer = KafkaWriter.Response(correlationId, flexibleHeader: false);
        writer.WriteArrayLength(0, compact: false);
        writer.WriteInt32(1);
        writer.WriteArrayLength(0, compact: false);
        return writer.ToFrame();
    }

    private static int RequestCorrelationId(byte[] frame) => BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(8));

    private static int ResponseCorrelationId(byte[] frame) => BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4));

    private static async Task<List<byte[]>> ReceiveFramesAsync(Socket socket, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var frames = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var size = new byte[4];
            await ReceiveExactlyAsync(socket, size, timeout.Token);
            var frame = new byte[4 + BinaryPrimitives.ReadInt32BigEndian(size)];
            size.CopyTo(frame, 0);
            await ReceiveExactlyAsync(socket, frame.AsMemory(4), timeout.Token);
            frames.Add(frame);
        }

        return frames;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            Assert.True(read > 0, "the connection closed");
            buffer = buffer[read..];
        }
    }

    /// <summary>Answers any local request at once with an empty body, and says when it did.</summary>
    private sealed class CannedLocalResponse : ILocalRequestHandler
    {
        private readonly TaskCompletionSource _invoked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Invoked => _invoked.Task;

        public Task<byte[]> HandleAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
        {
            _invoked.TrySetResult();
            return Task.FromResult(KafkaWriter.Response(BinaryPrimitives.ReadInt32BigEndian(frame.Span[8..]), flexibleHeader: false).ToFrame());
        }
    }
}
