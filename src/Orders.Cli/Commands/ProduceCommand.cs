using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orders.Cli.Hosting;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.Monitoring;
using Orders.Monitoring.Tracing;
using Orders.Producer;
using Orders.Producer.Hosting;

namespace Orders.Cli.Commands;

/// <summary><c>orders produce</c>: publishes random orders until a limit or Ctrl+C, showing its progress.</summary>
internal static partial class ProduceCommand
{
    /// <summary>How often a progress line is logged when stderr is not a terminal.</summary>
    internal static TimeSpan ProgressLogInterval { get; set; } = TimeSpan.FromSeconds(5);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions(topicKey: "Producer:Topic");
        var count = CliOptions.NonNegativeLong("--count", "Stop after this many orders.");
        var duration = CliOptions.Seconds("--duration", "Stop after this many seconds.");
        var rate = CliOptions.PositiveDouble("--rate", "Orders per second (default: as fast as possible).");
        var invalidRatio = CliOptions.Ratio("--invalid-ratio", "Share of orders made to fail validation, to show the dead-letter path (0 to 1).");
        var seed = new Option<int>("--seed") { Description = "Seed of the order generator (default 42).", DefaultValueFactory = _ => 42 };
        var verbose = new Option<bool>("--verbose") { Description = "Log every order sent." };
        var http = new HttpOptions(ProducerHostingExtensions.Section, onByDefault: false);

        var command = new Command("produce", "Publish random orders as Avro, idempotently, until --count, --duration or Ctrl+C.")
        {
            count, duration, rate, invalidRatio, seed, verbose,
        };
        client.AddTo(command, flags);
        http.AddTo(command, flags);
        flags.Add(count, "Producer:Count")
            .Add(duration, "Producer:Duration")
            .Add(rate, "Producer:Rate")
            .Add(invalidRatio, "Producer:InvalidRatio")
            .Add(seed, "Producer:Seed")
            .Add(verbose, "Producer:LogEachOrder");
        command.SetAction((parseResult, cancellationToken) => VerbRun.RunAsync(stderr, cancellationToken, async run =>
        {
            var settings = client.Load(parseResult, flags);
            run.Registry = settings.SchemaRegistryConfig();
            using var loggers = settings.CreateLoggerFactory();
            using var registry = settings.SchemaRegistryClient();
            var host = run.Own(ProducerHost(settings, loggers, registry));
            CliHost.Validate(host);
            if (await settings.CheckRegistryCredentialsAsync(cancellationToken) is { } rejected)
            {
                return await run.FailAsync(OrdersCli.ExitFailure, rejected);
            }

            var worker = host.Services.GetRequiredService<ProducerWorker>();
            if (!await CliHost.StartAsync(host, cancellationToken))
            {
                return OrdersCli.ExitOk;
            }

            var statusLine = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
            await ShowProgressAsync(worker.Publisher, Task.WhenAny(worker.Completion, CliHost.Stopping(host, cancellationToken)), statusLine ? stderr : null, loggers.CreateLogger("Orders.Producer.Progress"));
            ProducerSummary summary;
            try
            {
                summary = await CliHost.FinishAsync(host, worker.Completion, cancellationToken);
            }
            catch (ProducerFailedException e) when (e.Summary is { } reached)
            {
                // Orders acknowledged before the failure are in the topic: what they add up to is printed, then the error's line.
                await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(reached, e.Message) : Summaries.ToText(reached));
                throw;
            }

            await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
            return summary.Failed == 0 && summary.Unacknowledged == 0 ? OrdersCli.ExitOk : OrdersCli.ExitFailure;
        }));
        return command;
    }

    /// <summary>The producer's host: with <c>/metrics</c> and health when a port is configured (<c>Producer:Http:Port</c>) and not turned off.</summary>
    internal static Microsoft.Extensions.Hosting.IHost ProducerHost(CliSettings settings, ILoggerFactory loggers, Confluent.SchemaRegistry.ISchemaRegistryClient registry)
    {
        var section = ProducerHostingExtensions.Section;
        var http = $"{section}:Http";
        var enabled = true;
        if (settings.Configuration[$"{http}:Enabled"] is { } text && !bool.TryParse(text, out enabled))
        {
            throw new SettingsException($"{http}:Enabled: '{text}' is not true or false");
        }

        // Off without a port: a host or an interval given alone would be ignored without a word.
        if (settings.Configuration[$"{http}:Port"] is null
            && new[] { "Host", "DashboardInterval" }.FirstOrDefault(key => settings.Configuration[$"{http}:{key}"] is not null) is { } alone)
        {
            throw new SettingsException($"{http}:{alone} is set, but the producer serves HTTP only on a port it is given (--http-port, {http}:Port)");
        }

        var web = settings.Configuration[$"{http}:Port"] is not null && enabled;
        var builder = CliHost.CreateBuilder(settings, loggers, registry, web, TracedComponent.Producer);

        // Hosted services start in this order: a port that cannot be used is said before anything is produced.
        if (builder is WebApplicationBuilder webBuilder)
        {
            webBuilder.AddProducerMonitoring();
        }

        builder.AddOrderProducer();

        return CliHost.Build(builder, app => app.MapProducerMonitoring());
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
