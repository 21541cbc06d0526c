using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Orders.Bench;
using Orders.Cli.Bench;
using Orders.Cli.Settings;
using Orders.Monitoring.Tracing;

namespace Orders.Cli.Commands;

/// <summary>
/// <c>orders bench</c>: the pipeline against the raw client's ceiling, in one run. By default it
/// starts a local stack of its own in a separate process (so the broker's CPU is not counted as
/// the clients'), runs, and stops it.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var count = CliOptions.Positive("--count", 400_000, 5_000_000, "Orders of the backlog each drain run reads (with --relay-overhead: orders per run).");
        var produceCount = CliOptions.Positive("--produce-count", 1_000_000, 10_000_000, "Orders each produce run publishes.");
        var repeats = CliOptions.Positive("--repeats", 5, 20, "Runs of each side (ceiling, pipeline, references), alternating.");
        var partitions = CliOptions.Positive("--partitions", 16, 256, "Partitions of the topics the bench creates.");
        var rate = CliOptions.Positive("--rate", 20_000, 1_000_000, "Orders per second of the latency runs.");
        var latencySeconds = CliOptions.Positive("--latency-seconds", 5, 600, "Length of each latency run.");
        var warmUp = CliOptions.Positive("--warm-up", 200_000, 1_000_000, "Orders of the unreported warm-up run of each side.");
        var noKcat = new Option<bool>("--no-kcat") { Description = "Leave out kcat (the C client's reference) even where it is installed." };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Use this cluster instead of starting a local stack (with --schema-registry)." };
        var registry = new Option<string?>("--schema-registry") { Description = "The registry of --bootstrap-servers." };
        bootstrap.Validators.Add(result =>
        {
            if (Orders.Kafka.KafkaSettingsCheck.BootstrapError(result.GetValueOrDefault<string?>()) is { } error)
            {
                result.AddError($"--bootstrap-servers: {error}");
            }
        });
        registry.Validators.Add(result =>
        {
            if (CliSettings.ValidateUrl(result.GetValueOrDefault<string?>() ?? "") is { } error)
            {
                result.AddError($"--schema-registry: {error}");
            }
        });
        var relayOverhead = new Option<bool>("--relay-overhead")
        {
            Description = "Instead: the ceiling alone through two local stacks in this process, one whose relays read Kafka's framing (the default) and one relaying plain bytes, to show what the protocol-aware relay costs.",
        };
        var traced = new Option<bool>("--traced")
        {
            Description = "Also run the publisher and the processor with tracing on, exporting where the OTEL_* variables say (an endpoint is needed; set the sampler, e.g. " +
                "OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.01): the report gives traced over untraced.",
        };
        var (handlerLatency, _, _) = ConsumeCommand.ConcurrencyOptions();
        handlerLatency.Description = "Instead: the handler mode, the processor draining --count (here 20,000) orders, keyed and key-less, through a simulated downstream " +
            "taking this long (10ms, or 5ms-20ms), against the theory (in flight / latency) and, with --fail-ratio, against the same run without failures.";
        var failRatio = CliOptions.OptionalRatio("--fail-ratio", "With --handler-latency: the share of handler calls that fail transiently (retried, dead-lettered after the last attempt).");
        var json = ClientOptions.JsonOption();
        var command = new Command("bench", "Measure the pipeline (our publisher and processor) against the raw Kafka client's ceilings: drain a backlog, produce, latency at a fixed rate.")
        {
            count, produceCount, repeats, partitions, rate, latencySeconds, warmUp, noKcat, bootstrap, registry, relayOverhead, traced, handlerLatency, failRatio, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var external = parseResult.GetValue(bootstrap);
            if ((external is null) != (parseResult.GetValue(registry) is null))
            {
                await stderr.WriteLineAsync("orders: --bootstrap-servers and --schema-registry go together");
                return OrdersCli.ExitUsage;
            }

            if (parseResult.GetValue(relayOverhead))
            {
                if (external is not null)
                {
                    await stderr.WriteLineAsync("orders: --relay-overhead measures the local stack's relays; it takes no --bootstrap-servers");
                    return OrdersCli.ExitUsage;
                }

                if (parseResult.GetValue(handlerLatency) is not null || parseResult.GetValue(traced))
                {
                    await stderr.WriteLineAsync("orders: --relay-overhead measures the relays alone; it takes no --handler-latency or --traced");
                    return OrdersCli.ExitUsage;
                }

                var (relayCount, relayRepeats) = (parseResult.GetValue(count), parseResult.GetValue(repeats));
                return await ReportAsync(
                    () => RelayOverheadBench.RunAsync(relayCount, relayRepeats, parseResult.GetValue(partitions), parseResult.GetValue(warmUp), line => stderr.WriteLine(line), cancellationToken),
                    report => parseResult.GetValue(json)
                        ? JsonSerializer.Serialize(new { relayOverhead = report }, Json)
                        : string.Create(
                            CultureInfo.InvariantCulture,
                            $"Ceiling through the relays, medians of {relayRepeats} runs each of {relayCount:N0} orders: reading Kafka's framing {report.Inspecting:N0} orders/s, plain bytes {report.Plain:N0} orders/s; ratio {report.Ratio:F3}."),
                    stdout,
                    stderr);
            }

            var handler = parseResult.GetValue(handlerLatency) is { } latencyText
                ? new HandlerBenchOptions(latencyText, parseResult.GetValue(failRatio) ?? 0, parseResult.GetResult(count) is { Implicit: false } ? parseResult.GetValue(count) : 20_000)
                : null;
            if (handler is null && parseResult.GetValue(failRatio) is not null)
            {
                await stderr.WriteLineAsync("orders: --fail-ratio belongs to the handler mode: give --handler-latency too");
                return OrdersCli.ExitUsage;
            }

            if (handler is not null && Orders.Processor.Records.LatencyRange.TryParse(handler.Latency, out var range, out _) && range.Max <= TimeSpan.Zero)
            {
                await stderr.WriteLineAsync("orders: the handler mode measures against in flight / latency: give --handler-latency above 0");
                return OrdersCli.ExitUsage;
            }

            if (handler is not null && parseResult.GetValue(traced))
            {
                await stderr.WriteLineAsync("orders: --traced measures the drain and produce sides; the handler mode takes no --traced");
                return OrdersCli.ExitUsage;
            }

            TracingSettings? tracing = null;
            if (parseResult.GetValue(traced))
            {
                try
                {
                    tracing = TracingSettings.Read(new ConfigurationBuilder().AddEnvironmentVariables().Build(), Environment.GetEnvironmentVariable);
                }
                catch (TracingSettingsException e)
                {
                    await stderr.WriteLineAsync($"orders: {e.Message}");
                    return OrdersCli.ExitUsage;
                }

                if (tracing is null)
                {
                    await stderr.WriteLineAsync("orders: --traced needs an OTLP endpoint to export to (OTEL_EXPORTER_OTLP_ENDPOINT), and tracing not disabled");
                    return OrdersCli.ExitUsage;
                }
            }

            using var stack = external is null ? await LocalStackProcess.StartAsync(parseResult.GetValue(partitions), stderr, cancellationToken) : null;
            if (external is null && stack is null)
            {
                return OrdersCli.ExitFailure;
            }

            var options = new BenchOptions
            {
                BootstrapServers = external ?? stack!.BootstrapServers,
                SchemaRegistryUrl = parseResult.GetValue(registry) ?? stack!.RegistryUrl,
                DrainCount = parseResult.GetValue(count),
                ProduceCount = parseResult.GetValue(produceCount),
                Repeats = parseResult.GetValue(repeats),
                Partitions = parseResult.GetValue(partitions),
                LatencyRate = parseResult.GetValue(rate),
                LatencyDuration = TimeSpan.FromSeconds(parseResult.GetValue(latencySeconds)),
                WarmUpCount = parseResult.GetValue(warmUp),
                UseKcat = !parseResult.GetValue(noKcat),
                StartTracing = tracing is null ? null : () => OrdersTracing.Start(tracing, failures: null, TracedComponent.Producer, TracedComponent.Processor),
                TracingSampler = tracing?.SamplerText,
            };

            if (handler is not null)
            {
                return await ReportAsync(
                    () => new PipelineBench(options, line => stderr.WriteLine(line)).RunHandlerAsync(handler, cancellationToken),
                    report => parseResult.GetValue(json) ? JsonSerializer.Serialize(new { handler = report }, Json) : BenchText.Handler(report),
                    stdout,
                    stderr);
            }

            return await ReportAsync(
                () => new PipelineBench(options, line => stderr.WriteLine(line)).RunAsync(cancellationToken),
                report => parseResult.GetValue(json) ? JsonSerializer.Serialize(report, Json) : BenchText.Pipeline(report, options),
                stdout,
                stderr);
        });
        return command;
    }

    /// <summary>Runs a bench and prints its report; a cancelled or failed run is one line and exit 1.</summary>
    private static async Task<int> ReportAsync<T>(Func<Task<T>> run, Func<T, string> render, TextWriter stdout, TextWriter stderr)
    {
        T report;
        try
        {
            report = await run();
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("orders: bench cancelled");
            return OrdersCli.ExitFailure;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or Confluent.Kafka.KafkaException or HttpRequestException or Confluent.SchemaRegistry.SchemaRegistryException)
        {
            // A cluster or registry given with --bootstrap-servers that does not answer, say: one line.
            await stderr.WriteLineAsync($"orders: bench failed: {e.Message}");
            return OrdersCli.ExitFailure;
        }

        await stdout.WriteLineAsync(render(report));
        return OrdersCli.ExitOk;
    }
}
