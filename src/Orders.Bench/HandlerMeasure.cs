using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Records;

namespace Orders.Bench;

/// <summary>
/// The handler mode: the processor with its defaults draining a backlog while a simulated downstream
/// (<c>Processor:Handler:Latency</c>) takes its time, with and without transient failures
/// (<c>Processor:FailRatio</c>), for keyed orders (as the publisher writes them) and key-less ones
/// (as the seed-style Python producer writes them). Its ceiling is arithmetic, not a client: at most
/// <c>Processor:MaxInFlight</c> calls at once, each taking the mean latency, is
/// in-flight / latency orders per second. Each side is timed from its first order counted to its
/// last, dead letters (retries exhausted) included, so a retry's backoff at the end of the backlog
/// is part of the time.
/// </summary>
internal sealed class HandlerMeasure(BenchKafka kafka, ISchemaRegistryClient registry, HandlerBenchOptions handler)
{
    public const string Keyed = "keyed";
    public const string KeyedFailing = "keyed-failing";
    public const string Keyless = "keyless";
    public const string KeylessFailing = "keyless-failing";

    private readonly DrainMeasure _backlogs = new(kafka, registry, kcat: null);

    public IReadOnlyList<string> Sides => handler.FailRatio > 0 ? [Keyed, KeyedFailing, Keyless, KeylessFailing] : [Keyed, Keyless];

    public static bool IsKeyed(string side) => side is Keyed or KeyedFailing;

    public static bool Fails(string side) => side is KeyedFailing or KeylessFailing;

    /// <summary>One backlog of each kind: keyed and key-less.</summary>
    public async Task<(string Keyed, string Keyless)> PrefillAsync(long count, CancellationToken cancellationToken) =>
        (await _backlogs.PrefillAsync(count, cancellationToken, keyed: true), await _backlogs.PrefillAsync(count, cancellationToken, keyed: false));

    public async Task<SideRun> RunAsync(string side, string topic, long count, int repeat, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Processor:Handler:Latency"] = handler.Latency,
            ["Processor:FailRatio"] = (Fails(side) ? handler.FailRatio : 0).ToString(CultureInfo.InvariantCulture),
            ["Processor:Seed"] = repeat.ToString(CultureInfo.InvariantCulture),
        };
        var observer = new FirstObserver();
        using var host = kafka.ProcessorHost(topic, registry, observer, settings);
        var status = host.Services.GetRequiredService<ProcessorStatus>();
        var processing = host.Services.GetRequiredService<ProcessorWorker>().Completion;
        await host.StartAsync(cancellationToken);
        long Done() => status.Counters.Processed + status.Counters.DeadLetteredByReason.Values.Sum();

        // Polled every few milliseconds: the runs take seconds, and a dead letter is not observed as a record processed.
        var counted = 0L;
        Snapshot end = default;
        var lastProgress = Stopwatch.StartNew();
        while (lastProgress.Elapsed < kafka.Options.StallTimeout && !processing.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            var done = Done();
            if (done >= count)
            {
                end = Snapshot.Take();
                counted = done;
                break;
            }

            if (done > counted)
            {
                counted = done;
                lastProgress.Restart();
            }

            await Task.Delay(2, CancellationToken.None);
        }

        var deadLettered = status.Counters.DeadLetteredByReason.Values.Sum();
        await host.StopAsync(CancellationToken.None);
        await processing;
        BenchKafka.Check("handler", side, topic, count, counted);
        if (!Fails(side) && deadLettered > 0)
        {
            throw new InvalidOperationException($"the processor dead-lettered {deadLettered} of the {count} valid orders of {topic} with a handler that never fails");
        }

        return observer.First.To(end, counted, count) with { DeadLettered = deadLettered };
    }

    /// <summary>The in-flight bound over the mean latency: the most a processor with these settings can handle per second.</summary>
    public static double Theory(int maxInFlight, LatencyRange latency) =>
        maxInFlight / Math.Max((latency.Min + latency.Max).TotalSeconds / 2, 1e-9);

    private sealed class FirstObserver : IRecordObserver
    {
        private int _seen;

        public Snapshot First { get; private set; }

        public void Processed(ConsumeResult<byte[]?, byte[]?> record)
        {
            if (_seen++ == 0)
            {
                First = Snapshot.Take();
            }
        }
    }
}

/// <summary>The handler mode's settings: the simulated downstream's latency (as <c>--handler-latency</c> takes it) and its failures.</summary>
public sealed record HandlerBenchOptions(string Latency, double FailRatio, long Count = 20_000);
