namespace Orders.LocalStack.Kafka.Protocol;

/// <summary>
/// A request's header (KIP-482: v1, or v2 with tagged fields for an API's flexible versions). The
/// client id is always a classic nullable string, even in v2.
/// </summary>
internal readonly record struct RequestHeader(short ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    /// <summary>Bytes of a frame up to and including the correlation id: size, api key, version, correlation id.</summary>
    public const int FixedLength = 12;

    /// <summary>Whether the request (and so, except for ApiVersions, the response) uses a flexible version.</summary>
    public bool IsFlexible => FlexibleVersions.IsFlexible(ApiKey, ApiVersion);

    /// <summary>Reads the header of a complete request, leaving <paramref name="reader"/> at the body.</summary>
    public static RequestHeader Read(ref KafkaReader reader)
    {
        var apiKey = reader.ReadInt16();
        var apiVersion = reader.ReadInt16();
        var correlationId = reader.ReadInt32();
        var clientId = reader.ReadNullableString(compact: false);
        if (FlexibleVersions.IsFlexible(apiKey, apiVersion))
        {
            reader.SkipTaggedFields();
        }

        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }
}

/// <summary>The first flexible version of each API (from Kafka's message definitions), where the relay reads past a header.</summary>
internal static class FlexibleVersions
{
    public static bool IsFlexible(short apiKey, short apiVersion) => FirstFlexible(apiKey) is var first && first >= 0 && apiVersion >= first;

    private static int FirstFlexible(short apiKey) => (KafkaApiKey)apiKey switch
    {
        KafkaApiKey.Produce => 9,
        KafkaApiKey.Fetch => 12,
        KafkaApiKey.ListOffsets => 6,
        KafkaApiKey.Metadata => 9,
        KafkaApiKey.OffsetCommit => 8,
        KafkaApiKey.OffsetFetch => 6,
        KafkaApiKey.FindCoordinator => 3,
        KafkaApiKey.JoinGroup => 6,
        KafkaApiKey.Heartbeat => 4,
        KafkaApiKey.LeaveGroup => 4,
        KafkaApiKey.SyncGroup => 4,
        KafkaApiKey.ApiVersions => 3,
        KafkaApiKey.CreateTopics => 5,
        KafkaApiKey.DeleteTopics => 4,
        KafkaApiKey.InitProducerId => 2,
        KafkaApiKey.AddPartitionsToTxn => 3,
        KafkaApiKey.AddOffsetsToTxn => 3,
        KafkaApiKey.EndTxn => 3,
        KafkaApiKey.TxnOffsetCommit => 3,
        KafkaApiKey.DescribeConfigs => 4,
        KafkaApiKey.AlterConfigs => 2,
        KafkaApiKey.IncrementalAlterConfigs => 1,
        KafkaApiKey.ConsumerGroupHeartbeat => 0,
        _ => -1,
    };
}
