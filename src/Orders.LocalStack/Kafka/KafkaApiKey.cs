namespace Orders.LocalStack.Kafka;

/// <summary>Kafka protocol API keys: those the mock serves (for injecting request errors per API) and those the relay serves itself.</summary>
public enum KafkaApiKey : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    ApiVersions = 18,
    CreateTopics = 19,
    DeleteTopics = 20,
    InitProducerId = 22,
    AddPartitionsToTxn = 24,
    AddOffsetsToTxn = 25,
    EndTxn = 26,
    TxnOffsetCommit = 28,
    DescribeConfigs = 32,
    AlterConfigs = 33,
    IncrementalAlterConfigs = 44,
    ConsumerGroupHeartbeat = 68,
    ShareGroupHeartbeat = 76,
    ShareFetch = 78,
    ShareAcknowledge = 79,
}
