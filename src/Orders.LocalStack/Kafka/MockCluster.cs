using System.Net;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Orders.LocalStack.Kafka;

/// <summary>
/// librdkafka's in-process mock Kafka cluster (<c>rdkafka_mock.h</c>), with typed access to its
/// fault injection. It speaks the real Kafka protocol on loopback TCP, so any Kafka client in any
/// process can use it. Memory only; each partition keeps roughly its newest 5 MiB.
/// </summary>
public sealed class MockCluster : IDisposable
{
    private readonly IntPtr _kafka;
    private readonly Lock _brokersLock = new();
    private readonly bool[] _brokerDown;
    private IntPtr _cluster;

    private MockCluster(IntPtr kafka, IntPtr cluster, int brokerCount)
    {
        _kafka = kafka;
        _cluster = cluster;
        BrokerCount = brokerCount;
        _brokerDown = new bool[brokerCount];
        var bootstraps = Marshal.PtrToStringUTF8(NativeMethods.MockClusterBootstraps(cluster)) ?? "";
        // Brokers are listed in id order (1..n).
        BrokerEndpoints = [.. bootstraps.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseEndPoint)];
        if (BrokerEndpoints.Count != brokerCount)
        {
            throw new InvalidOperationException($"The mock cluster reported {BrokerEndpoints.Count} brokers ({bootstraps}), expected {brokerCount}.");
        }
    }

    public int BrokerCount { get; }

    /// <summary>Where each broker really listens (random loopback ports), by broker id - 1.</summary>
    public IReadOnlyList<IPEndPoint> BrokerEndpoints { get; }

    public static MockCluster Create(int brokerCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        NativeMethods.EnsureLoaded();

        // The mock cluster hangs off a client handle; a producer handle that never produces will do.
        var errstr = new byte[512];
        var conf = NativeMethods.ConfNew();
        foreach (var (key, value) in new[] { ("log_level", "3"), ("client.id", "orders-local-stack") })
        {
            if (NativeMethods.ConfSet(conf, key, value, errstr, (UIntPtr)errstr.Length) != 0)
            {
                NativeMethods.ConfDestroy(conf);
                throw new InvalidOperationException($"librdkafka rejected {key}={value}: {ErrorText(errstr)}");
            }
        }

        var kafka = NativeMethods.KafkaNew(NativeMethods.RdKafkaProducer, conf, errstr, (UIntPtr)errstr.Length);
        if (kafka == IntPtr.Zero)
        {
            NativeMethods.ConfDestroy(conf);
            throw new InvalidOperationException($"librdkafka could not create the handle for the mock cluster: {ErrorText(errstr)}");
        }

        var cluster = NativeMethods.MockClusterNew(kafka, brokerCount);
        if (cluster == IntPtr.Zero)
        {
            NativeMethods.KafkaDestroy(kafka);
            throw new InvalidOperationException("librdkafka could not create the mock cluster.");
        }

        var mock = new MockCluster(kafka, cluster, brokerCount);
        // The mock reports controller 0 (no such broker) until told otherwise; clients that send their
        // admin requests to the controller (KafkaJS, kafka-python, Java) need a real one.
        mock.ControllerId = 1;
        NativeMethods.MockSetControllerId(cluster, 1);
        return mock;
    }

    /// <summary>The broker Metadata names as controller: always a live one while any is up, else -1 (no controller).</summary>
    public int ControllerId { get; private set; }

    /// <summary>Brokers not set down, in id order.</summary>
    public IReadOnlyList<int> LiveBrokerIds
    {
        get
        {
            lock (_brokersLock)
            {
                return [.. Enumerable.Range(1, BrokerCount).Where(id => !_brokerDown[id - 1])];
            }
        }
    }

    /// <returns>Kafka's error code: 0, or TopicAlreadyExists (36).</returns>
    public ErrorCode TryCreateTopic(string topic, int partitions, int replicationFactor) =>
        (ErrorCode)NativeMethods.MockTopicCreate(Handle, topic, partitions, replicationFactor);

    /// <returns>Kafka's error code: 0, or UnknownTopicOrPart (3).</returns>
    public ErrorCode TryDeleteTopic(string topic) => (ErrorCode)NativeMethods.MockTopicDelete(Handle, topic);

    public void CreateTopic(string topic, int partitions, int replicationFactor) =>
        Check(NativeMethods.MockTopicCreate(Handle, topic, partitions, replicationFactor), $"create topic {topic}");

    /// <summary>Changes the host and port that metadata advertises for a broker (where it listens does not change).</summary>
    public void SetAdvertisedAddress(int brokerId, string host, int port)
    {
        CheckBrokerId(brokerId);
        NativeMethods.MockBrokerSetHostPort(Handle, brokerId, host, port);
    }

    /// <summary>The next requests of this API fail with these errors, one each, in order, on whichever broker gets them.</summary>
    public void PushRequestErrors(KafkaApiKey apiKey, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        NativeMethods.MockPushRequestErrorsArray(Handle, (short)apiKey, (UIntPtr)codes.Length, codes);
    }

    public void ClearRequestErrors(KafkaApiKey apiKey) => NativeMethods.MockClearRequestErrors(Handle, (short)apiKey);

    /// <summary>Disconnects the broker's clients and refuses new connections until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId)
    {
        CheckBrokerId(brokerId);
        Check(NativeMethods.MockBrokerSetDown(Handle, brokerId), $"set broker {brokerId} down");
        lock (_brokersLock)
        {
            _brokerDown[brokerId - 1] = true;
            if (ControllerId == brokerId)
            {
                ElectController();
            }
        }
    }

    public void SetBrokerUp(int brokerId)
    {
        CheckBrokerId(brokerId);
        Check(NativeMethods.MockBrokerSetUp(Handle, brokerId), $"set broker {brokerId} up");
        lock (_brokersLock)
        {
            _brokerDown[brokerId - 1] = false;
            if (ControllerId == -1)
            {
                ElectController();
            }
        }
    }

    private void ElectController()
    {
        var live = Array.IndexOf(_brokerDown, false);
        ControllerId = live < 0 ? -1 : live + 1;
        NativeMethods.MockSetControllerId(Handle, ControllerId);
    }

    /// <summary>Delays every response of this broker by <paramref name="roundTrip"/>.</summary>
    public void SetBrokerRoundTripTime(int brokerId, TimeSpan roundTrip)
    {
        CheckBrokerId(brokerId);
        Check(NativeMethods.MockBrokerSetRtt(Handle, brokerId, checked((int)roundTrip.TotalMilliseconds)), $"set broker {brokerId} RTT");
    }

    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        CheckBrokerId(brokerId);
        Check(NativeMethods.MockPartitionSetLeader(Handle, topic, partition, brokerId), $"move leader of {topic}[{partition}] to broker {brokerId}");
    }

    /// <summary>Makes a broker the coordinator of a consumer group (FindCoordinator answers with it).</summary>
    public void SetGroupCoordinator(string group, int brokerId)
    {
        CheckBrokerId(brokerId);
        Check(NativeMethods.MockCoordinatorSet(Handle, "group", group, brokerId), $"make broker {brokerId} the coordinator of group {group}");
    }

    /// <summary>Makes metadata report this error for the topic; <see cref="ErrorCode.NoError"/> clears it.</summary>
    public void SetTopicError(string topic, ErrorCode error) => NativeMethods.MockTopicSetError(Handle, topic, (int)error);

    /// <summary>How long a new consumer group waits for more members before its first assignment.</summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay) =>
        NativeMethods.MockGroupInitialRebalanceDelayMs(Handle, checked((int)delay.TotalMilliseconds));

    /// <summary>
    /// KIP-848 groups (<c>group.protocol=consumer</c>): how long the broker keeps a silent member's
    /// partitions, and how often members heartbeat. The mock's defaults (45 s / 5 s) make a
    /// restarted member wait for its crashed predecessor's session to expire.
    /// </summary>
    public void SetGroupConsumerTimeouts(TimeSpan sessionTimeout, TimeSpan heartbeatInterval)
    {
        NativeMethods.MockSetGroupConsumerSessionTimeoutMs(Handle, checked((int)sessionTimeout.TotalMilliseconds));
        NativeMethods.MockSetGroupConsumerHeartbeatIntervalMs(Handle, checked((int)heartbeatInterval.TotalMilliseconds));
    }

    /// <summary>Takes an API out of every broker's ApiVersions answer: clients then act as with a broker that never had it.</summary>
    public void DisableApi(KafkaApiKey apiKey) =>
        Check(NativeMethods.MockSetApiVersion(Handle, (short)apiKey, -1, -1), $"disable {apiKey}");

    /// <summary>Drops the records of a partition before <paramref name="beforeOffset"/>, as retention would.</summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset) =>
        Check(NativeMethods.MockPartitionDeleteRecords(Handle, topic, partition, beforeOffset), $"delete records of {topic}[{partition}] before {beforeOffset}");

    public void Dispose()
    {
        if (_cluster == IntPtr.Zero)
        {
            return;
        }

        NativeMethods.MockClusterDestroy(_cluster);
        NativeMethods.KafkaDestroy(_kafka);
        _cluster = IntPtr.Zero;
    }

    private IntPtr Handle => _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(MockCluster));

    private void CheckBrokerId(int brokerId) =>
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)(brokerId - 1), (uint)(BrokerCount - 1), nameof(brokerId));

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new KafkaException(new Error((ErrorCode)error, $"Mock cluster could not {what}: {Marshal.PtrToStringUTF8(NativeMethods.Err2Str(error))}"));
        }
    }

    private static string ErrorText(byte[] errstr) => System.Text.Encoding.UTF8.GetString(errstr).TrimEnd('\0');

    private static IPEndPoint ParseEndPoint(string hostPort) =>
        IPEndPoint.TryParse(hostPort, out var endPoint) ? endPoint : throw new FormatException($"Unexpected mock broker address '{hostPort}'.");
}
