using Orders.LocalStack.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.UnitTests;

/// <summary>Request frames as a client would send them.</summary>
internal static class Frames
{
    public static byte[] Request(KafkaApiKey apiKey, short version, int correlationId, Action<KafkaWriter>? body = null, string? clientId = "test")
    {
        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteInt16((short)apiKey);
        writer.WriteInt16(version);
        writer.WriteInt32(correlationId);
        writer.WriteNullableString(clientId, compact: false);
        if (FlexibleVersions.IsFlexible((short)apiKey, version))
        {
            writer.WriteEmptyTaggedFields();
        }

        body?.Invoke(writer);
        return writer.ToFrame();
    }

    /// <summary>A produce request up to its acks field (the rest does not matter to the relay).</summary>
    public static byte[] Produce(short version, short acks, string? transactionalId = null) =>
        Request(KafkaApiKey.Produce, version, 7, w =>
        {
            var flexible = version >= 9;
            if (version >= 3)
            {
                w.WriteNullableString(transactionalId, flexible);
            }

            w.WriteInt16(acks);
            w.WriteInt32(30_000);
            w.WriteArrayLength(0, flexible);
            w.EndStruct(flexible);
        });
}
