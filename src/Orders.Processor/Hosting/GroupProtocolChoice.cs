using System.Globalization;
using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Processor.Hosting;

/// <summary>Configuration asks for a group protocol the cluster does not offer: one line, and the processor does not start.</summary>
public sealed class GroupProtocolException(string message) : Exception(message);

/// <summary>
/// Which group protocol the processor uses, and why. librdkafka never reports a broker without
/// KIP-848 to the application: it marks the coordinator dead at debug level and asks again forever,
/// so a processor that asked for <c>group.protocol=consumer</c> on Kafka 3.x would wait without a
/// word. The broker's own ApiVersions answer (<see cref="BrokerApis"/>) decides instead: with
/// <c>group.protocol</c> not set, KIP-848 where the broker offers it (a restarted member gets its
/// partitions as soon as the broker's session ends), the classic protocol where it does not (it
/// works everywhere); set to a protocol the broker lacks, an error that names the setting.
/// </summary>
public sealed record GroupProtocolChoice(GroupProtocol Protocol, string Reason)
{
    // librdkafka refuses these under group.protocol=consumer: the broker owns session and assignment there.
    private static readonly string[] ClassicOnlySettings = ["session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy", "group.protocol.type"];

    public string Name => Protocol == GroupProtocol.Consumer ? "consumer" : "classic";

    /// <param name="config">The consumer's settings as configured (before <see cref="ProcessorClientConfig.ForProtocol"/>).</param>
    /// <param name="apis">What the broker offers, or null when it could not be read.</param>
    /// <exception cref="GroupProtocolException">A protocol was asked for (or implied) that the broker does not offer, or <c>group.protocol</c> has a value librdkafka does not know.</exception>
    public static GroupProtocolChoice Decide(ConsumerConfig config, BrokerApis? apis)
    {
        var broker = apis is null ? "the broker" : $"the broker at {apis.Broker}";
        var kip848 = apis?.Versions(BrokerApis.ConsumerGroupHeartbeat) is { } range
            ? string.Create(CultureInfo.InvariantCulture, $"{broker} offers KIP-848 (ConsumerGroupHeartbeat v{range.Min}-v{range.Max})")
            : null;
        const string Lacks = "does not offer KIP-848 (no ConsumerGroupHeartbeat: Apache Kafka before 4.0, or 4.x without the group.version feature finalised)";

        switch (config.Get("group.protocol")?.Trim().ToLowerInvariant())
        {
            case "consumer" when apis is not null && kip848 is null:
                throw new GroupProtocolException(
                    $"Kafka:group.protocol is consumer (KIP-848), but {broker} {Lacks}; remove the setting to use the classic protocol, which every broker offers, " +
                    "or finalise it on the cluster (kafka-features.sh upgrade --feature group.version=1)");
            case "consumer":
                return new(GroupProtocol.Consumer, $"Kafka:group.protocol is consumer{(kip848 is null ? " (the broker's API versions could not be read)" : $", and {kip848}")}");
            case "classic" when apis is not null && !apis.Offers(BrokerApis.JoinGroup):
                throw new GroupProtocolException($"Kafka:group.protocol is classic, but {broker} does not offer JoinGroup; remove the setting");
            case "classic":
                return new(GroupProtocol.Classic, "Kafka:group.protocol is classic");
            case { Length: > 0 } other:
                throw new GroupProtocolException($"Kafka:group.protocol is '{other}': it must be classic or consumer, or not set (the processor then picks the one the broker offers)");
        }

        if (ClassicOnlySettings.FirstOrDefault(s => config.Get(s) is not null) is { } classicOnly)
        {
            return new(GroupProtocol.Classic, $"Kafka:{classicOnly} is set, which only the classic protocol takes (under KIP-848 the broker decides it)");
        }

        if (config.Get("group.remote.assignor") is not null)
        {
            return apis is not null && kip848 is null
                ? throw new GroupProtocolException($"Kafka:group.remote.assignor is set, which needs KIP-848, but {broker} {Lacks}; remove it")
                : new(GroupProtocol.Consumer, "Kafka:group.remote.assignor is set, which only KIP-848 takes");
        }

        return kip848 is not null
            ? new(GroupProtocol.Consumer, kip848)
            : new(GroupProtocol.Classic, apis is null
                ? "the broker's API versions could not be read (api.version.request=false?), and the classic protocol works on every broker"
                : $"{broker} {Lacks}");
    }
}
