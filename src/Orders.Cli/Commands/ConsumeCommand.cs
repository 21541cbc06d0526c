using System.CommandLine;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Processor;

namespace Orders.Cli.Commands;

/// <summary><c>orders consume</c>: the processor, until Ctrl+C/SIGTERM or idle.</summary>
internal static class ConsumeCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var client = new ClientOptions();
        var group = new Option<string>("--group") { Description = "Consumer group.", DefaultValueFactory = _ => ProcessorOptions.DefaultGroup };
        var untilIdle = CliOptions.Seconds("--until-idle", "Exit after this many seconds without records (waiting at least 60 s for the first partition assignment).");
        var maxAttempts = CliOptions.Positive("--max-attempts", 3, 100, "Attempts for a transiently failing order before it is dead-lettered.");
        var failRatio = CliOptions.Ratio("--fail-ratio", "Share of handler calls that fail transiently, to exercise retries (0 to 1).");
        var retryDelay = CliOptions.Positive("--retry-delay-ms", 200, 600_000, "Base delay of the exponential retry backoff, in milliseconds.");
        var seed = new Option<int>("--seed") { Description = "Seed of the failure simulation and retry jitter.", DefaultValueFactory = _ => 42 };

        var command = new Command("consume", "Run the order processor: running averages, retries, dead letters.")
        {
            group, untilIdle, maxAttempts, failRatio, retryDelay, seed,
        };
        client.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (settings, error) = client.Load(parseResult);
            if (settings is null)
            {
                await stderr.WriteLineAsync($"orders: {error}");
                return OrdersCli.ExitUsage;
            }

            if (string.IsNullOrWhiteSpace(parseResult.GetValue(group)))
            {
                await stderr.WriteLineAsync("orders: --group must not be empty");
                return OrdersCli.ExitUsage;
            }

            var options = new ProcessorOptions
            {
                Topic = settings.Topic,
                GroupId = parseResult.GetValue(group)!,
                UntilIdle = parseResult.GetValue(untilIdle),
                MaxAttempts = parseResult.GetValue(maxAttempts),
                FailRatio = parseResult.GetValue(failRatio),
                RetryBaseDelay = TimeSpan.FromMilliseconds(parseResult.GetValue(retryDelay)),
                Seed = parseResult.GetValue(seed),
            };

            using var loggers = settings.CreateLoggerFactory();
            using var registryClient = settings.SchemaRegistryClient();
            var processor = Create(settings, options, registryClient, loggers);
            try
            {
                var summary = await processor.RunAsync(cancellationToken);
                await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
                return OrdersCli.ExitOk;
            }
            catch (KafkaConfigurationException e)
            {
                await stderr.WriteLineAsync($"orders: {e.Message}");
                return OrdersCli.ExitUsage;
            }
            catch (KafkaException e)
            {
                await stderr.WriteLineAsync($"orders: fatal Kafka error: {e.Error.Reason}");
                return OrdersCli.ExitFailure;
            }
        });
        return command;
    }

    internal static OrderProcessor Create(AppSettings settings, ProcessorOptions options, Confluent.SchemaRegistry.ISchemaRegistryClient registry, ILoggerFactory loggers) =>
        new(
            settings.ConsumerConfig(),
            settings.ProducerConfig(),
            options,
            new OrderDecoder(registry),
            new FailureInjectingHandler(options.FailRatio, new Random(options.Seed)),
            TimeProvider.System,
            loggers.CreateLogger<OrderProcessor>());
}
