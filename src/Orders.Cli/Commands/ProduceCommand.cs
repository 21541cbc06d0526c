using System.CommandLine;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Producer;

namespace Orders.Cli.Commands;

/// <summary><c>orders produce</c>: publishes random orders until a limit or Ctrl+C.</summary>
internal static class ProduceCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var client = new ClientOptions();
        var count = CliOptions.NonNegativeLong("--count", "Stop after this many orders.");
        var duration = CliOptions.Seconds("--duration", "Stop after this many seconds.");
        var rate = CliOptions.PositiveDouble("--rate", "Orders per second (default: as fast as possible).");
        var invalidRatio = CliOptions.Ratio("--invalid-ratio", "Share of orders made to fail validation, to show the dead-letter path (0 to 1).");
        var seed = new Option<int>("--seed") { Description = "Seed of the order generator.", DefaultValueFactory = _ => 42 };

        var command = new Command("produce", "Publish random orders as Avro, idempotently, until --count, --duration or Ctrl+C.")
        {
            count, duration, rate, invalidRatio, seed,
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

            var options = new ProducerOptions
            {
                Topic = settings.Topic,
                Count = parseResult.GetValue(count),
                Duration = parseResult.GetValue(duration),
                Rate = parseResult.GetValue(rate),
                InvalidRatio = parseResult.GetValue(invalidRatio),
                Seed = parseResult.GetValue(seed),
            };

            if (await settings.CheckRegistryCredentialsAsync(cancellationToken) is { } rejected)
            {
                await stderr.WriteLineAsync($"orders: {rejected}");
                return OrdersCli.ExitFailure;
            }

            using var loggers = settings.CreateLoggerFactory();
            using var registryClient = settings.SchemaRegistryClient();
            var publisher = new OrderPublisher(settings.ProducerConfig(), registryClient, options, TimeProvider.System, loggers.CreateLogger<OrderPublisher>());
            ProducerSummary summary;
            try
            {
                summary = await publisher.RunAsync(cancellationToken);
            }
            catch (KafkaConfigurationException e)
            {
                await stderr.WriteLineAsync($"orders: {e.Message}");
                return OrdersCli.ExitUsage;
            }

            await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
            return summary.Failed == 0 ? OrdersCli.ExitOk : OrdersCli.ExitFailure;
        });
        return command;
    }
}
