using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Producer;

namespace Orders.Cli.Commands;

/// <summary><c>orders produce</c>: publishes random orders until a limit or Ctrl+C, showing its progress.</summary>
internal static partial class ProduceCommand
{
    /// <summary>How often a progress line is logged when stderr is not a terminal.</summary>
    internal static TimeSpan ProgressLogInterval { get; set; } = TimeSpan.FromSeconds(5);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var client = new ClientOptions();
        var count = CliOptions.NonNegativeLong("--count", "Stop after this many orders.");
        var duration = CliOptions.Seconds("--duration", "Stop after this many seconds.");
        var rate = CliOptions.PositiveDouble("--rate", "Orders per second (default: as fast as possible).");
        var invalidRatio = CliOptions.Ratio("--invalid-ratio", "Share of orders made to fail validation, to show the dead-letter path (0 to 1).");
        var seed = new Option<int>("--seed") { Description = "Seed of the order generator.", DefaultValueFactory = _ => 42 };
        var verbose = new Option<bool>("--verbose") { Description = "Log every order sent." };

        var command = new Command("produce", "Publish random orders as Avro, idempotently, until --count, --duration or Ctrl+C.")
        {
            count, duration, rate, invalidRatio, seed, verbose,
        };
        client.AddTo(command);
        ProducerHost.Http.AddTo(command);
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
                LogEachOrder = parseResult.GetValue(verbose),
            };

            if (await settings.CheckRegistryCredentialsAsync(cancellationToken) is { } rejected)
            {
                await stderr.WriteLineAsync($"orders: {rejected}");
                return OrdersCli.ExitFailure;
            }

            using var loggers = settings.CreateLoggerFactory();
            using var registryClient = settings.SchemaRegistryClient();
            var publisher = new OrderPublisher(settings.ProducerConfig(), registryClient, options, TimeProvider.System, loggers.CreateLogger<OrderPublisher>());
            var flags = new Dictionary<string, string?>();
            ProducerHost.Http.MapTo(parseResult, flags);
            await using var endpoint = ProducerHost.Build(settings, flags, publisher, loggers);
            if (endpoint is not null && await ProducerHost.StartAsync(endpoint, cancellationToken) is { } failure)
            {
                await stderr.WriteLineAsync($"orders: {failure}");
                return OrdersCli.ExitUsage;
            }

            var running = publisher.RunAsync(cancellationToken);
            ProducerHost.Watch(endpoint, running);
            var statusLine = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
            await ShowProgressAsync(publisher, running, statusLine ? stderr : null, loggers.CreateLogger("Orders.Producer.Progress"));

            ProducerSummary summary;
            try
            {
                summary = await running;
            }
            catch (KafkaConfigurationException e)
            {
                await stderr.WriteLineAsync($"orders: {e.Message}");
                return OrdersCli.ExitUsage;
            }
            catch (ProducerFailedException e)
            {
                await stderr.WriteLineAsync($"orders: {e.Message}");
                return OrdersCli.ExitFailure;
            }

            await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
            if (endpoint is not null)
            {
                await endpoint.StopAsync(CancellationToken.None);
            }

            return summary.Failed == 0 && summary.Unacknowledged == 0 ? OrdersCli.ExitOk : OrdersCli.ExitFailure;
        });
        return command;
    }

    /// <summary>A live status line on a terminal (<paramref name="terminal"/>), else a log line every few seconds, until the run ends.</summary>
    private static async Task ShowProgressAsync(OrderPublisher publisher, Task running, TextWriter? terminal, ILogger logger)
    {
        var interval = terminal is null ? ProgressLogInterval : TimeSpan.FromMilliseconds(250);
        var width = 0;
        while (await Task.WhenAny(running, Task.Delay(interval)) != running)
        {
            var p = publisher.Progress;
            if (p.Sent == 0)
            {
                continue; // Still waiting for a broker or the registry, which say so themselves.
            }

            if (terminal is null)
            {
                LogProgress(logger, p.Sent, p.Produced, p.Failed, Math.Round(p.Rate));
                continue;
            }

            var line = string.Create(CultureInfo.InvariantCulture, $"produced {p.Produced:N0} ({p.Rate:N0}/s), failed {p.Failed:N0}, in flight {p.Sent - p.Produced - p.Failed:N0}, {p.Elapsed.TotalSeconds:F0} s");
            width = Math.Max(width, line.Length);
            await terminal.WriteAsync($"\r{line.PadRight(width)}");
        }

        if (width > 0)
        {
            await terminal!.WriteAsync($"\r{new string(' ', width)}\r");
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Sent {Sent} orders, {Produced} acknowledged ({Rate}/s), {Failed} failed")]
    private static partial void LogProgress(ILogger logger, long sent, long produced, long failed, double rate);
}
