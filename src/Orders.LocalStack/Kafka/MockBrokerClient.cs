using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka;

internal sealed record MockBroker(int Id, string Host, int Port);

internal sealed record MockPartition(int Id, int Leader, int ReplicaCount);

internal sealed record MockTopic(string Name, Guid Id, short ErrorCode, IReadOnlyList<MockPartition> Partitions);

internal sealed record MockMetadata(string? ClusterId, int ControllerId, IReadOnlyList<MockBroker> Brokers, IReadOnlyList<MockTopic> Topics)
{
    public MockTopic? Find(string name) => Topics.FirstOrDefault(t => t.Name == name && t.ErrorCode == 0);
}

/// <summary>
/// The stack's own Kafka client for what the mock has no C API for (which topics exist, their ids and
/// partitions, log start offsets): a few requests over direct connections to the mock brokers,
/// bypassing the relays. One request at a time per broker; a broken connection is replaced.
/// </summary>
internal sealed class MockBrokerClient(MockCluster cluster) : IAsyncDisposable
{
    private const string ClientId = "orders-local-stack";
    private const short MetadataVersion = 12;
    private const short ListOffsetsVersion = 1;
    private const long EarliestTimestamp = -2;
    private const long LatestTimestamp = -1;

    private readonly Dictionary<int, Connection> _connections = [];
    private readonly Lock _connectionsLock = new();

    /// <summary>The mock's ApiVersions table, asked of broker <paramref name="brokerId"/>.</summary>
    public async Task<Dictionary<short, (short Min, short Max)>> ApiVersionsAsync(int brokerId, CancellationToken cancellationToken)
    {
        var request = Request(KafkaApiKey.ApiVersions, 2, _ => { });
        var body = await SendAsync(brokerId, request, flexibleResponse: false, cancellationToken);
        return ApiSupport.ParseApiVersions(body);
    }

    /// <summary>Metadata of these topics (null: all), from any live broker; never creates a topic.</summary>
    public async Task<MockMetadata> MetadataAsync(IReadOnlyCollection<string>? topics, CancellationToken cancellationToken)
    {
        var request = Request(KafkaApiKey.Metadata, MetadataVersion, w =>
        {
            w.WriteArrayLength(topics?.Count ?? -1, compact: true);
            foreach (var topic in topics ?? [])
            {
                w.WriteUuid(Guid.Empty);
                w.WriteString(topic, compact: true);
                w.WriteEmptyTaggedFields();
            }

            w.WriteBoolean(false); // allow_auto_topic_creation
            w.WriteBoolean(false); // include_topic_authorized_operations
            w.WriteEmptyTaggedFields();
        });

        Exception? last = null;
        foreach (var brokerId in cluster.LiveBrokerIds)
        {
            try
            {
                return ParseMetadata(await SendAsync(brokerId, request, flexibleResponse: true, cancellationToken));
            }
            catch (Exception e) when (e is SocketException or IOException or KafkaProtocolException)
            {
                last = e;
            }
        }

        throw new IOException("no mock broker answered a metadata request", last);
    }

    /// <summary>Log start offsets of partitions led by <paramref name="brokerId"/>; partitions that answered an error are left out.</summary>
    public Task<Dictionary<(string Topic, int Partition), long>> EarliestOffsetsAsync(
        int brokerId, IReadOnlyDictionary<string, List<int>> partitions, CancellationToken cancellationToken) =>
        OffsetsAsync(brokerId, partitions, EarliestTimestamp, cancellationToken);

    /// <summary>Log end offsets (high watermarks) of partitions led by <paramref name="brokerId"/>; partitions that answered an error are left out.</summary>
    public Task<Dictionary<(string Topic, int Partition), long>> LatestOffsetsAsync(
        int brokerId, IReadOnlyDictionary<string, List<int>> partitions, CancellationToken cancellationToken) =>
        OffsetsAsync(brokerId, partitions, LatestTimestamp, cancellationToken);

    private async Task<Dictionary<(string Topic, int Partition), long>> OffsetsAsync(
        int brokerId, IReadOnlyDictionary<string, List<int>> partitions, long timestamp, CancellationToken cancellationToken)
    {
        var request = Request(KafkaApiKey.ListOffsets, ListOffsetsVersion, w =>
        {
            w.WriteInt32(-1); // replica_id: a consumer
            w.WriteArrayLength(partitions.Count, compact: false);
            foreach (var (topic, ids) in partitions)
            {
                w.WriteString(topic, compact: false);
                w.WriteArrayLength(ids.Count, compact: false);
                foreach (var id in ids)
                {
                    w.WriteInt32(id);
                    w.WriteInt64(timestamp);
                }
            }
        });

        var body = await SendAsync(brokerId, request, flexibleResponse: false, cancellationToken);
        var reader = new KafkaReader(body);
        var offsets = new Dictionary<(string, int), long>();
        var topicCount = reader.ReadArrayLength(compact: false);
        for (var t = 0; t < topicCount; t++)
        {
            var topic = reader.ReadString(compact: false);
            var partitionCount = reader.ReadArrayLength(compact: false);
            for (var p = 0; p < partitionCount; p++)
            {
                var partition = reader.ReadInt32();
                var error = reader.ReadInt16();
                _ = reader.ReadInt64();
                var offset = reader.ReadInt64();
                if (error == 0)
                {
                    offsets[(topic, partition)] = offset;
                }
            }
        }

        return offsets;
    }

    private static MockMetadata ParseMetadata(byte[] body)
    {
        var reader = new KafkaReader(body);
        _ = reader.ReadInt32(); // throttle
        var brokers = new List<MockBroker>();
        var brokerCount = reader.ReadArrayLength(compact: true);
        for (var i = 0; i < brokerCount; i++)
        {
            var id = reader.ReadInt32();
            var host = reader.ReadString(compact: true);
            var port = reader.ReadInt32();
            _ = reader.ReadNullableString(compact: true);
            reader.SkipTaggedFields();
            brokers.Add(new MockBroker(id, host, port));
        }

        var clusterId = reader.ReadNullableString(compact: true);
        var controllerId = reader.ReadInt32();
        var topics = new List<MockTopic>();
        var topicCount = reader.ReadArrayLength(compact: true);
        for (var t = 0; t < topicCount; t++)
        {
            var error = reader.ReadInt16();
            var name = reader.ReadNullableString(compact: true) ?? "";
            var topicId = reader.ReadUuid();
            _ = reader.ReadBoolean();
            var partitions = new List<MockPartition>();
            var partitionCount = reader.ReadArrayLength(compact: true);
            for (var p = 0; p < partitionCount; p++)
            {
                _ = reader.ReadInt16();
                var index = reader.ReadInt32();
                var leader = reader.ReadInt32();
                _ = reader.ReadInt32();
                var replicas = reader.ReadArrayLength(compact: true);
                reader.Skip(4 * Math.Max(replicas, 0));
                reader.Skip(4 * Math.Max(reader.ReadArrayLength(compact: true), 0));
                reader.Skip(4 * Math.Max(reader.ReadArrayLength(compact: true), 0));
                reader.SkipTaggedFields();
                partitions.Add(new MockPartition(index, leader, Math.Max(replicas, 0)));
            }

            _ = reader.ReadInt32();
            reader.SkipTaggedFields();
            topics.Add(new MockTopic(name, topicId, error, partitions));
        }

        return new MockMetadata(clusterId, controllerId, brokers, topics);
    }

    private static KafkaWriter Request(KafkaApiKey apiKey, short version, Action<KafkaWriter> body)
    {
        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteInt16((short)apiKey);
        writer.WriteInt16(version);
        writer.WriteInt32(0); // correlation id, set per send
        writer.WriteString(ClientId, compact: false);
        if (FlexibleVersions.IsFlexible((short)apiKey, version))
        {
            writer.WriteEmptyTaggedFields();
        }

        body(writer);
        return writer;
    }

    /// <returns>The response body, after its header.</returns>
    private async Task<byte[]> SendAsync(int brokerId, KafkaWriter request, bool flexibleResponse, CancellationToken cancellationToken)
    {
        Connection connection;
        lock (_connectionsLock)
        {
            if (!_connections.TryGetValue(brokerId, out connection!))
            {
                connection = new Connection(cluster.BrokerEndpoints[brokerId - 1]);
                _connections[brokerId] = connection;
            }
        }

        return await connection.SendAsync(request.ToFrame(), flexibleResponse, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        List<Connection> connections;
        lock (_connectionsLock)
        {
            connections = [.. _connections.Values];
            _connections.Clear();
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    private sealed class Connection(IPEndPoint endPoint) : IAsyncDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
        private readonly SemaphoreSlim _gate = new(1, 1);
        private Socket? _socket;
        private int _correlationId;

        public async Task<byte[]> SendAsync(byte[] frame, bool flexibleResponse, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            try
            {
                if (_socket is null)
                {
                    _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await _socket.ConnectAsync(endPoint, timeout.Token);
                }

                var correlationId = ++_correlationId;
                BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), correlationId);
                await _socket.SendAsync(frame, SocketFlags.None, timeout.Token);

                var sizeBytes = new byte[4];
                await ReceiveExactlyAsync(_socket, sizeBytes, timeout.Token);
                var size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
                if (size is < 4 or > ApiSupport.MaxFrameSize)
                {
                    throw new KafkaProtocolException($"the mock sent a response frame of {size} bytes");
                }

                var response = new byte[size];
                await ReceiveExactlyAsync(_socket, response, timeout.Token);
                var reader = new KafkaReader(response);
                if (reader.ReadInt32() != correlationId)
                {
                    throw new KafkaProtocolException("the mock answered another request");
                }

                if (flexibleResponse)
                {
                    reader.SkipTaggedFields();
                }

                return response[reader.Position..];
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or KafkaProtocolException)
            {
                // The broker went down, or the exchange broke: the next request opens a new connection.
                _socket?.Dispose();
                _socket = null;
                if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    throw new IOException($"the mock broker at {endPoint} did not answer within {Timeout.TotalSeconds} s", e);
                }

                throw;
            }
            finally
            {
                _gate.Release();
            }
        }

        private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (buffer.Length > 0)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new IOException("the mock broker closed the connection");
                }

                buffer = buffer[read..];
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _gate.WaitAsync();
            _socket?.Dispose();
            _socket = null;
            _gate.Release();
        }
    }
}
