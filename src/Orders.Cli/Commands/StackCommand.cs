using System.CommandLine;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Cli.Settings;
using Orders.LocalStack;
using Orders.LocalStack.Kafka;
using Orders.SchemaRegistry;

namespace Orders.Cli.Commands;

/// <summary><c>orders stack</c>: Kafka and the Schema Registry on this machine until Ctrl+C.</summary>
internal static class StackCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var brokers = CliOptions.Positive("--brokers", 1, 16, "Number of Kafka brokers.");
        var kafkaPort = CliOptions.Port("--kafka-port", 9092, "Port of the first broker; the others listen on the ports after it.");
        var partitions = CliOptions.Positive("--partitions", 6, 1000, "Partitions of the orders topic, its dead-letter topic and its checkpoint topic.");
        var registryPort = CliOptions.Port("--registry-port", 8081, "Port of the Schema Registry.");
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Keep registered schemas in this folder across restarts (default: memory only)." };
        var topic = CliOptions.Topic();
        var kafkaVersion = new Option<string>("--kafka-version")
        {
            Description = "The Kafka version the brokers answer as: 4.x (the default, 4.1) offers KIP-848 consumer groups, 3.x (e.g. 3.9) only the classic protocol.",
            DefaultValueFactory = _ => KafkaVersion.Default.ToString(),
        };
        kafkaVersion.Validators.Add(result =>
        {
            try
            {
                KafkaVersion.Parse(result.GetValueOrDefault<string>() ?? "");
            }
            catch (FormatException e)
            {
                result.AddError($"--kafka-version: {e.Message}");
            }
        });
        var registryAuth = new Option<FileInfo?>("--registry-auth")
        {
            Description = "Require HTTP basic auth on the Schema Registry: a file of user:password lines (or user:sha256:HEX, user:pbkdf2-sha256:...; see the README).",
        };

        var command = new Command("stack", "Run the local stack (Kafka mock cluster and Schema Registry) until Ctrl+C.")
        {
            brokers, kafkaPort, partitions, registryPort, dataDir, topic, kafkaVersion, registryAuth,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new LocalStackOptions
            {
                Brokers = parseResult.GetValue(brokers),
                KafkaPort = parseResult.GetValue(kafkaPort),
                Partitions = parseResult.GetValue(partitions),
                RegistryPort = parseResult.GetValue(registryPort),
                DataDirectory = parseResult.GetValue(dataDir)?.FullName,
                Topic = parseResult.GetValue(topic)!,
                RegistryAuthFile = parseResult.GetValue(registryAuth)?.FullName,
                KafkaVersion = KafkaVersion.Parse(parseResult.GetValue(kafkaVersion)!),
            };

            if (options.KafkaPort + options.Brokers - 1 > 65535)
            {
                await stderr.WriteLineAsync($"orders: --kafka-port {options.KafkaPort} leaves no room for {options.Brokers} brokers below port 65536");
                return OrdersCli.ExitUsage;
            }

            using var loggers = StackLoggers();
            await using var stack = await StartAsync(options, stderr, loggers, cancellationToken);
            if (stack is null)
            {
                return OrdersCli.ExitUsage;
            }

            await PrintBannerAsync(stdout, stack, options);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }

            await stdout.WriteLineAsync("Stopping the local stack.");
            return OrdersCli.ExitOk;
        });
        return command;
    }

    internal static async Task<LocalStackHost?> StartAsync(LocalStackOptions options, TextWriter stderr, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            return await LocalStackHost.StartAsync(options, loggers, cancellationToken);
        }
        catch (PortInUseException e)
        {
            var option = e.Component == "kafka" ? "--kafka-port" : "--registry-port";
            await stderr.WriteLineAsync($"orders: port {e.Port} {e.Reason} ({e.Component}); choose another with {option}");
            return null;
        }
        catch (InvalidDataException e)
        {
            await stderr.WriteLineAsync($"orders: {e.Message}");
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException && options.DataDirectory is not null)
        {
            await stderr.WriteLineAsync($"orders: cannot use --data-dir {options.DataDirectory}: {e.Message}");
            return null;
        }
    }

    /// <summary>Warnings and errors of the stack itself, on stderr.</summary>
    internal static ILoggerFactory StackLoggers() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Warning)
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    private static async Task PrintBannerAsync(TextWriter stdout, LocalStackHost stack, LocalStackOptions options)
    {
        var registryUrl = $"http://localhost:{stack.Registry.Url.Port}";
        await stdout.WriteLineAsync($"""
            Local stack is up.
              Kafka            {stack.BootstrapServers}  ({options.Brokers} broker(s) answering as Kafka {options.KafkaVersion}, librdkafka {Library.VersionString} mock cluster)
              Schema Registry  {registryUrl}  ({(options.DataDirectory is null ? "memory only" : $"schemas kept in {options.DataDirectory}")}{(stack.Registry.RequiresAuthentication ? "; basic auth required" : "")})
              Topics           {string.Join(", ", LocalStackHost.TopicsFor(options.Topic))} ({options.Partitions} partitions each)
            Limits (this is not a production cluster):
            """);
        foreach (var limit in LocalStackHost.Limits(options.KafkaVersion))
        {
            await stdout.WriteLineAsync($"  - {limit}");
        }

        await stdout.WriteLineAsync("Press Ctrl+C to stop.");
        await stdout.FlushAsync();
    }
}
