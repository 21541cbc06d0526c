using Orders.Bench;
using Orders.LocalStack.Kafka;

namespace Orders.Cli.Bench;

/// <summary>One ceiling run through one kind of relay.</summary>
public sealed record RelayRun(string Relay, int Repeat, double Throughput);

/// <summary>The ceiling's throughput through each kind of relay (medians) and their ratio.</summary>
public sealed record RelayOverheadReport(double Inspecting, double Plain, double Ratio, long Orders, IReadOnlyList<RelayRun> Runs);

/// <summary>
/// What the local stack's protocol-aware relay costs on the hot path: the bench's ceiling (raw
/// produce and consume) through two local stacks in this process, one whose relays read Kafka's
/// framing (the default: admin API, controller rewrite) and one whose relays copy plain bytes,
/// alternating, medians of the repeats. Both brokers run in this process, so only throughput is
/// compared, never CPU.
/// </summary>
internal static class RelayOverheadBench
{
    public static async Task<RelayOverheadReport> RunAsync(long count, int repeats, int partitions, long warmUp, Action<string> progress, CancellationToken cancellationToken)
    {
        await using var inspecting = LocalKafka.Start(new LocalKafkaOptions { Port = 0 });
        await using var plain = LocalKafka.Start(new LocalKafkaOptions { Port = 0, InspectProtocol = false });
        // One bench per stack: its values are prepared once, on its first run.
        var stacks = new (string Name, LocalKafka Kafka, PipelineBench Bench)[]
        {
            ("inspecting", inspecting, Bench(inspecting)),
            ("plain", plain, Bench(plain)),
        };

        var runs = new List<RelayRun>();
        for (var repeat = 0; repeat <= repeats; repeat++)
        {
            foreach (var (name, kafka, bench) in stacks)
            {
                var topic = $"bench-relay-{Guid.NewGuid():N}";
                kafka.Cluster.CreateTopic(topic, partitions, replicationFactor: 1);
                var throughput = Math.Round(await bench.CeilingThroughputAsync(topic, repeat == 0 ? warmUp : count, cancellationToken));

                // Repeat 0 warms both up (JIT, connections) and is not reported.
                if (repeat > 0)
                {
                    runs.Add(new RelayRun(name, repeat, throughput));
                    progress($"ceiling through the {name} relay #{repeat}: {throughput:N0} orders/s");
                }
            }
        }

        PipelineBench Bench(LocalKafka kafka) =>
            new(new BenchOptions { BootstrapServers = kafka.BootstrapServers, SchemaRegistryUrl = "unused:0", Partitions = partitions }, progress);

        var inspectingMedian = BenchMath.MedianOf(runs.Where(r => r.Relay == "inspecting").Select(r => r.Throughput));
        var plainMedian = BenchMath.MedianOf(runs.Where(r => r.Relay == "plain").Select(r => r.Throughput));
        return new RelayOverheadReport(inspectingMedian, plainMedian, Math.Round(inspectingMedian / plainMedian, 3), count, runs);
    }
}
