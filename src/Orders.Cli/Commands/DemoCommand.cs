using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orders.LocalStack;
using Orders.Processor.Observability;
using Orders.Producer;
using Orders.Producer.Observability;

namespace Orders.Cli.Commands;

/// <summary><c>orders demo</c>: the local stack, the processor and the producer in one process, with a live view.</summary>
internal static class DemoCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var duration = CliOptions.Seconds("--duration", "Stop after this many seconds (default: until Ctrl+C).");
        var rate = CliOptions.PositiveDouble("--rate", "Orders per second (default 50).");
        var invalidRatio = CliOptions.Ratio("--invalid-ratio", "Share of invalid orders (default 0.02).");
        var failRatio = CliOptions.Ratio("--fail-ratio", "Share of handler calls that fail transiently (default 0.05).");
        var kafkaPort = CliOptions.Port("--kafka-port", 9092, "Port of the local Kafka broker.");
        var registryPort = CliOptions.Port("--registry-port", 8081, "Port of the local Schema Registry.");
        var seed = new Option<int>("--seed") { Description = "Seed of the generator and the failure simulation.", DefaultValueFactory = _ => 42 };
        var json = ClientOptions.JsonOption();
        var http = new HttpOptions("Processor", onByDefault: true);
        invalidRatio.DefaultValueFactory = _ => 0.02;
        failRatio.DefaultValueFactory = _ => 0.05;

        var command = new Command("demo", "Local stack, processor and producer in one process, with a live view of the running averages.")
        {
            duration, rate, invalidRatio, failRatio, kafkaPort, registryPort, seed, json,
        };
        http.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stackOptions = new LocalStackOptions { KafkaPort = parseResult.GetValue(kafkaPort), RegistryPort = parseResult.GetValue(registryPort) };
            using var stackLoggers = StackCommand.StackLoggers();
            await using var stack = await StackCommand.StartAsync(stackOptions, stderr, stackLoggers, cancellationToken);
            if (stack is null)
            {
                return OrdersCli.ExitUsage;
            }

            var (settings, error) = AppSettings.Load(stack.BootstrapServers, stack.SchemaRegistryUrl, stackOptions.Topic, parseResult.GetValue(json));
            if (settings is null)
            {
                await stderr.WriteLineAsync($"orders: {error}");
                return OrdersCli.ExitUsage;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parseResult.GetValue(duration) is { } limit)
            {
                stop.CancelAfter(limit);
            }

            using var loggers = settings.Json ? settings.CreateLoggerFactory() : LiveView.Loggers();
            using var registryClient = settings.SchemaRegistryClient();
            var seedValue = parseResult.GetValue(seed);
            var flags = new Dictionary<string, string?>
            {
                ["Processor:Topic"] = settings.Topic,
                ["Processor:FailRatio"] = ProcessorHost.Number(parseResult.GetValue(failRatio)),
                ["Processor:Seed"] = seedValue.ToString(CultureInfo.InvariantCulture),
            };
            http.MapTo(parseResult, flags);
            using var host = ProcessorHost.Build(settings, flags, registryClient, loggers);
            var publisher = new OrderPublisher(
                settings.ProducerConfig(),
                registryClient,
                new ProducerOptions { Topic = settings.Topic, Rate = parseResult.GetValue(rate) ?? 50, InvalidRatio = parseResult.GetValue(invalidRatio), Seed = seedValue },
                TimeProvider.System,
                loggers.CreateLogger<OrderPublisher>());

            // The producer's figures on the processor's /metrics: one process, one page.
            _ = new ProducerMetrics(host.Services.GetRequiredService<IMeterFactory>(), publisher, settings.Topic);
            var processing = ProcessorHost.RunAsync(host, settings.SchemaRegistryConfig(), stop.Token);
            var producing = Task.Run(
                async () =>
                {
                    try
                    {
                        return await publisher.RunAsync(stop.Token);
                    }
                    catch (ProducerFailedException)
                    {
                        // Nothing more to show: stop the processor too; the error is printed below.
                        await stop.CancelAsync();
                        throw;
                    }
                },
                CancellationToken.None);

            if (!settings.Json)
            {
                await stdout.WriteLineAsync($"Local stack: Kafka {stack.BootstrapServers}, Schema Registry {stack.SchemaRegistryUrl}. Ctrl+C stops the demo.");
                var dashboard = await ProcessorHost.HttpAddressAsync(host, processing);
                if (dashboard is not null)
                {
                    await stdout.WriteLineAsync($"Dashboard: {dashboard}  (metrics: {new Uri(dashboard, "metrics")}, health: {new Uri(dashboard, "health/ready")})");
                }

                var live = new LiveView(host.Services.GetRequiredService<ProcessorStatus>(), "orders demo", TimeProvider.System)
                {
                    Dashboard = dashboard,
                    Rows = () => [("produced", publisher.Produced.ToString(CultureInfo.InvariantCulture))],
                };
                await live.RunAsync(Task.WhenAll(processing, producing));
            }

            // Both stop together; the summary says how far each got.
            ProducerSummary produced;
            try
            {
                produced = await producing;
            }
            catch (ProducerFailedException e)
            {
                await stop.CancelAsync();
                await processing;
                await stderr.WriteLineAsync($"orders: {e.Message}");
                return OrdersCli.ExitFailure;
            }

            var (processed, exit, failure) = await processing;
            if (processed is null)
            {
                await stderr.WriteLineAsync($"orders: {failure ?? "the processor stopped before it started"}");
                return exit == OrdersCli.ExitOk ? OrdersCli.ExitFailure : exit;
            }

            await stdout.WriteLineAsync(settings.Json
                ? Summaries.ToJson(produced, processed)
                : Summaries.ToText(produced) + Environment.NewLine + Summaries.ToText(processed));
            return OrdersCli.ExitOk;
        });
        return command;
    }
}
