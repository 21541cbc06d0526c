using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orders.Cli.Hosting;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.LocalStack;
using Orders.Monitoring;
using Orders.Monitoring.Tracing;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Producer;
using Orders.Producer.Hosting;
using Orders.Producer.Observability;

namespace Orders.Cli.Commands;

/// <summary><c>orders demo</c>: one host of the local stack, the processor, the producer and monitoring, with a live view.</summary>
internal static class DemoCommand
{
    // The demo's own defaults, over the settings' (none invalid, none failing): its point is to show the dead-letter and retry paths.
    private const double DemoInvalidRatio = 0.02;
    private const double DemoFailRatio = 0.05;

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var duration = CliOptions.Seconds("--duration", "Stop this many seconds after the stack, processor and producer have started (default: until Ctrl+C).");
        var rate = CliOptions.PositiveDouble("--rate", "Orders per second (default 50).");
        var invalidRatio = CliOptions.Ratio("--invalid-ratio", "Share of invalid orders.", shown: DemoInvalidRatio);
        var failRatio = CliOptions.Ratio("--fail-ratio", "Share of handler calls that fail transiently.", shown: DemoFailRatio);
        var kafkaPort = CliOptions.Port("--kafka-port", 9092, "Port of the local Kafka broker.");
        var registryPort = CliOptions.Port("--registry-port", 8081, "Port of the local Schema Registry.");
        var (handlerLatency, maxInFlight, ordering) = ConsumeCommand.ConcurrencyOptions();
        var seed = new Option<int?>("--seed") { Description = "Seed of the generator and the failure simulation (default 42)." };
        var json = ClientOptions.JsonOption();
        var http = new HttpOptions(ProcessorOptions.Section, onByDefault: true);

        var command = new Command("demo", "Local stack, processor and producer in one process, with a live view of the running averages.")
        {
            duration, rate, invalidRatio, failRatio, kafkaPort, registryPort, seed, json, handlerLatency, maxInFlight, ordering,
        };
        http.AddTo(command, flags);
        flags.Add(rate, "Producer:Rate")
            .Add(invalidRatio, "Producer:InvalidRatio")
            .Add(failRatio, "Processor:FailRatio")
            .Add(seed, "Producer:Seed")
            .Add(seed, "Processor:Seed")
            .Add(handlerLatency, "Processor:Handler:Latency")
            .Add(maxInFlight, "Processor:MaxInFlight")
            .Add(ordering, "Processor:Ordering")
            // The demo's own stack, whatever the settings say.
            .Set("Kafka:BootstrapServers", r => $"localhost:{r.GetValue(kafkaPort).ToString(CultureInfo.InvariantCulture)}")
            .Set("SchemaRegistry:Url", r => $"http://localhost:{r.GetValue(registryPort).ToString(CultureInfo.InvariantCulture)}");
        var defaults = new Dictionary<string, string?> { ["Producer:Rate"] = "50", ["Producer:InvalidRatio"] = DemoInvalidRatio.ToString(CultureInfo.InvariantCulture), ["Processor:FailRatio"] = DemoFailRatio.ToString(CultureInfo.InvariantCulture) };
        command.SetAction((parseResult, cancellationToken) => VerbRun.RunAsync(stderr, async run =>
        {
            var settings = CliSettings.Load(new SettingsRequest(null, flags.From(parseResult), parseResult.GetValue(json), Defaults: defaults));
            run.Registry = settings.SchemaRegistryConfig();
            // One topic for the demo's producer and processor, which its stack creates (Producer:Topic defaults to Processor:Topic).
            var topic = settings.ProcessorTopic;
            if (settings.Configuration["Producer:Topic"] is { } producerTopic && producerTopic != topic)
            {
                throw new SettingsException(
                    $"Producer:Topic '{producerTopic}' is not Processor:Topic '{topic}': the demo's producer and processor share one topic, which its stack creates; set Processor:Topic alone");
            }

            var stackOptions = new LocalStackOptions { KafkaPort = parseResult.GetValue(kafkaPort), RegistryPort = parseResult.GetValue(registryPort), Topic = topic };
            using var stackLoggers = StackCommand.StackLoggers();
            using var loggers = settings.Json ? settings.CreateLoggerFactory() : settings.CreateLiveViewLoggerFactory();
            using var registry = settings.SchemaRegistryClient();
            var host = run.Own(DemoHost(settings, loggers, registry, new LocalStackService(stackOptions, stackLoggers)));
            var processing = host.Services.GetRequiredService<ProcessorWorker>().Completion;
            var producer = host.Services.GetRequiredService<ProducerWorker>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (!await CliHost.StartAsync(host, stop.Token))
            {
                return OrdersCli.ExitOk;
            }

            // Counted from the moment everything runs: the stack's start (seconds on a busy machine) is not the demo's time.
            if (parseResult.GetValue(duration) is { } limit)
            {
                stop.CancelAfter(limit);
            }

            var both = Task.WhenAll(processing, producer.Completion);
            if (!settings.Json)
            {
                await ShowAsync(stdout, host, settings, Task.WhenAny(both, CliHost.Stopping(host, stop.Token)), producer.Publisher);
            }

            await CliHost.FinishAsync(host, both, stop.Token);
            var produced = await producer.Completion;
            var processed = await processing;
            await stdout.WriteLineAsync(settings.Json
                ? Summaries.ToJson(produced, processed)
                : Summaries.ToText(produced) + Environment.NewLine + Summaries.ToText(processed));
            return OrdersCli.ExitOk;
        }));
        return command;
    }

    /// <summary>The stack first (it is up before the others start), then the processor with its monitoring, then the producer.</summary>
    private static Microsoft.Extensions.Hosting.IHost DemoHost(
        CliSettings settings, Microsoft.Extensions.Logging.ILoggerFactory loggers, Confluent.SchemaRegistry.ISchemaRegistryClient registry, LocalStackService stack)
    {
        var web = !(bool.TryParse(settings.Configuration[$"{ProcessorOptions.Section}:Http:Enabled"], out var enabled) && !enabled);
        var builder = CliHost.CreateBuilder(settings, loggers, registry, web, TracedComponent.Producer, TracedComponent.Processor);
        builder.Services.AddSingleton(stack);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalStackService>());
        builder.AddOrderProcessor();
        if (builder is WebApplicationBuilder webBuilder)
        {
            webBuilder.AddProcessorMonitoring();
        }

        builder.AddOrderProducer();
        // The producer's figures on the processor's /metrics: one process, one page.
        builder.Services.AddSingleton(sp => new ProducerMetrics(
            sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<OrderPublisher>(), sp.GetRequiredService<IOptions<ProducerOptions>>().Value.Topic));
        var host = CliHost.Build(builder, app => app.MapProcessorMonitoring());
        host.Services.GetRequiredService<ProducerMetrics>();
        return host;
    }

    private static async Task ShowAsync(TextWriter stdout, Microsoft.Extensions.Hosting.IHost host, CliSettings settings, Task running, OrderPublisher publisher)
    {
        await stdout.WriteLineAsync($"Local stack: Kafka {settings.BootstrapServers}, Schema Registry {settings.SchemaRegistryUrl}. Ctrl+C stops the demo.");
        var dashboard = await ConsumeCommand.DashboardAddressAsync(host, running);
        if (dashboard is not null)
        {
            await stdout.WriteLineAsync($"Dashboard: {dashboard}  (metrics: {new Uri(dashboard, "metrics")}, health: {new Uri(dashboard, "health/ready")})");
        }

        var live = new LiveView(host.Services.GetRequiredService<ProcessorStatus>(), "orders demo", TimeProvider.System)
        {
            Dashboard = dashboard,
            Rows = () => [("produced", publisher.Produced.ToString(CultureInfo.InvariantCulture))],
        };
        await live.RunAsync(running);
    }
}
