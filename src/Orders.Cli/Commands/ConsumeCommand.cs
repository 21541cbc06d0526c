using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orders.Cli.Hosting;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.Monitoring;
using Orders.Monitoring.Tracing;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Cli.Commands;

/// <summary><c>orders consume</c>: the processor as a hosted service, until Ctrl+C/SIGTERM or idle.</summary>
internal static class ConsumeCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions();
        var group = new Option<string?>("--group") { Description = $"Consumer group (default {ProcessorOptions.DefaultGroup}; Processor:GroupId)." };
        var untilIdle = CliOptions.Seconds("--until-idle", "Exit after this many seconds without records (waiting at least 60 s for the first partition assignment, or for the topic to exist).");
        var maxAttempts = CliOptions.OptionalPositive("--max-attempts", 100, "Attempts for a transiently failing order before it is dead-lettered (default 3).");
        var failRatio = CliOptions.OptionalRatio("--fail-ratio", "Share of handler calls that fail transiently, to exercise retries (0 to 1).");
        var retryDelay = CliOptions.OptionalPositive("--retry-delay-ms", 600_000, "Base delay of the exponential retry backoff, in milliseconds (default 200).");
        var checkpointInterval = CliOptions.Seconds("--checkpoint-interval", "How often changed partitions are checkpointed (default 5).");
        var seed = new Option<int?>("--seed") { Description = "Seed of the failure simulation and retry jitter (default 42)." };
        var (handlerLatency, maxInFlight, ordering) = ConcurrencyOptions();
        var live = new Option<bool>("--live") { Description = "Show a live view of the averages, partitions, lag and dead letters (logs: errors only)." };
        var http = new HttpOptions(ProcessorOptions.Section, onByDefault: true);

        var command = new Command("consume", "Run the order processor: exact running averages checkpointed per partition, retries, dead letters.")
        {
            group, untilIdle, maxAttempts, failRatio, retryDelay, checkpointInterval, seed, live, handlerLatency, maxInFlight, ordering,
        };
        client.AddTo(command, flags);
        http.AddTo(command, flags);
        flags.Add(group, "Processor:GroupId")
            .Add(untilIdle, "Processor:UntilIdle")
            .Add(maxAttempts, "Processor:MaxAttempts")
            .Add(failRatio, "Processor:FailRatio")
            .Add(retryDelay, "Processor:RetryBaseDelay", ms => FlagMap.Text(TimeSpan.FromMilliseconds(ms!.Value)))
            .Add(checkpointInterval, "Processor:CheckpointInterval")
            .Add(seed, "Processor:Seed")
            .Add(handlerLatency, "Processor:Handler:Latency")
            .Add(maxInFlight, "Processor:MaxInFlight")
            .Add(ordering, "Processor:Ordering");
        command.Validators.Add(result =>
        {
            if (result.GetValue(live) && result.GetValue(client.Json))
            {
                result.AddError("--live draws on the terminal and --json prints one document on stdout: choose one");
            }
        });
        command.SetAction((parseResult, cancellationToken) => VerbRun.RunAsync(stderr, cancellationToken, async run =>
        {
            var settings = client.Load(parseResult, flags);
            run.Registry = settings.SchemaRegistryConfig();
            var showLive = parseResult.GetValue(live);
            // Under the live view, logs would tear it: errors only.
            using var loggers = showLive ? settings.CreateLiveViewLoggerFactory() : settings.CreateLoggerFactory();
            using var registry = settings.SchemaRegistryClient();
            var host = run.Own(ProcessorHost(settings, loggers, registry));
            CliHost.Validate(host);
            if (await settings.CheckRegistryCredentialsAsync(cancellationToken) is { } rejected)
            {
                return await run.FailAsync(OrdersCli.ExitFailure, rejected);
            }

            var completion = host.Services.GetRequiredService<ProcessorWorker>().Completion;
            if (!await CliHost.StartAsync(host, cancellationToken))
            {
                return OrdersCli.ExitOk;
            }

            if (showLive)
            {
                var view = new LiveView(host.Services.GetRequiredService<ProcessorStatus>(), $"orders consume: {settings.ProcessorTopic}", TimeProvider.System)
                {
                    Dashboard = await DashboardAddressAsync(host, completion),
                };
                await view.RunAsync(Task.WhenAny(completion, CliHost.Stopping(host, cancellationToken)));
            }

            var summary = await CliHost.FinishAsync(host, completion, cancellationToken);
            await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
            return OrdersCli.ExitOk;
        }));
        return command;
    }

    /// <summary>The flags of concurrent handling, shared with the demo.</summary>
    internal static (Option<string?> Latency, Option<int?> MaxInFlight, Option<string?> Ordering) ConcurrencyOptions()
    {
        var latency = new Option<string?>("--handler-latency")
        {
            Description = "How long the simulated downstream takes per order: a duration (10ms) or a range (5ms-20ms); Processor:Handler:Latency.",
        };
        latency.Validators.Add(result =>
        {
            if (!Processor.Records.LatencyRange.TryParse(result.GetValueOrDefault<string?>(), out _, out var error))
            {
                result.AddError($"--handler-latency: {error}");
            }
        });
        var maxInFlight = CliOptions.OptionalPositive("--max-in-flight", 100_000, "Orders handled at once across the partitions (default 256; Processor:MaxInFlight).");
        var ordering = new Option<string?>("--ordering") { Description = "What may be handled at once: key (same key in offset order, the default), partition (one at a time), or unordered." };
        // In any case, as Processor__Ordering takes it (the parser's own list would take lower case only).
        string[] orderings = ["key", "partition", "unordered"];
        ordering.CompletionSources.Add(orderings);
        ordering.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && !orderings.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                result.AddError($"--ordering must be key, partition or unordered, not '{value}'");
            }
        });
        return (latency, maxInFlight, ordering);
    }

    /// <summary>The processor's host: with <c>/metrics</c>, health and the dashboard unless <c>Processor:Http:Enabled</c> is false.</summary>
    internal static Microsoft.Extensions.Hosting.IHost ProcessorHost(CliSettings settings, Microsoft.Extensions.Logging.ILoggerFactory loggers, Confluent.SchemaRegistry.ISchemaRegistryClient registry)
    {
        // A value that is not a boolean leaves it on; the endpoint's options validation then names the key.
        var web = !(bool.TryParse(settings.Configuration[$"{ProcessorOptions.Section}:Http:Enabled"], out var enabled) && !enabled);
        var builder = CliHost.CreateBuilder(settings, loggers, registry, web, TracedComponent.Processor);
        builder.AddOrderProcessor();
        if (builder is WebApplicationBuilder webBuilder)
        {
            webBuilder.AddProcessorMonitoring();
        }

        return CliHost.Build(builder, app => app.MapProcessorMonitoring());
    }

    /// <summary>The dashboard's address once the host serves it, or null when it serves no HTTP (or stopped first).</summary>
    internal static async Task<Uri?> DashboardAddressAsync(Microsoft.Extensions.Hosting.IHost host, Task stopped)
    {
        if (host.Services.GetService<HttpEndpoint>() is not { } endpoint)
        {
            return null;
        }

        await Task.WhenAny(endpoint.Started, stopped);
        return endpoint.Started.IsCompletedSuccessfully ? endpoint.Started.Result : null;
    }
}
