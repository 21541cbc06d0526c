using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Cli.Commands;

/// <summary><c>orders consume</c>: the processor as a hosted service, until Ctrl+C/SIGTERM or idle.</summary>
internal static class ConsumeCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var client = new ClientOptions();
        var group = new Option<string?>("--group") { Description = $"Consumer group (default {ProcessorOptions.DefaultGroup})." };
        var untilIdle = CliOptions.Seconds("--until-idle", "Exit after this many seconds without records (waiting at least 60 s for the first partition assignment).");
        var maxAttempts = CliOptions.OptionalPositive("--max-attempts", 100, "Attempts for a transiently failing order before it is dead-lettered (default 3).");
        var failRatio = CliOptions.OptionalRatio("--fail-ratio", "Share of handler calls that fail transiently, to exercise retries (0 to 1).");
        var retryDelay = CliOptions.OptionalPositive("--retry-delay-ms", 600_000, "Base delay of the exponential retry backoff, in milliseconds (default 200).");
        var checkpointInterval = CliOptions.Seconds("--checkpoint-interval", "How often changed partitions are checkpointed (default 5).");
        var seed = new Option<int?>("--seed") { Description = "Seed of the failure simulation and retry jitter (default 42)." };
        var live = new Option<bool>("--live") { Description = "Show a live view of the averages, partitions, lag and dead letters (logs: errors only)." };
        var http = new HttpOptions("Processor", onByDefault: true);

        var command = new Command("consume", "Run the order processor: exact running averages checkpointed per partition, retries, dead letters.")
        {
            group, untilIdle, maxAttempts, failRatio, retryDelay, checkpointInterval, seed, live,
        };
        client.AddTo(command);
        http.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (settings, error) = client.Load(parseResult);
            if (settings is null)
            {
                await stderr.WriteLineAsync($"orders: {error}");
                return OrdersCli.ExitUsage;
            }

            var showLive = parseResult.GetValue(live);
            if (showLive && settings.Json)
            {
                await stderr.WriteLineAsync("orders: --live draws on the terminal and --json prints one document on stdout: choose one");
                return OrdersCli.ExitUsage;
            }

            var flags = new Dictionary<string, string?>
            {
                ["Processor:Topic"] = settings.Topic,
                ["Processor:GroupId"] = parseResult.GetValue(group),
                ["Processor:UntilIdle"] = ProcessorHost.Duration(parseResult.GetValue(untilIdle)),
                ["Processor:MaxAttempts"] = parseResult.GetValue(maxAttempts)?.ToString(CultureInfo.InvariantCulture),
                ["Processor:FailRatio"] = parseResult.GetValue(failRatio) is { } ratio ? ProcessorHost.Number(ratio) : null,
                ["Processor:RetryBaseDelay"] = ProcessorHost.Duration(parseResult.GetValue(retryDelay) is { } ms ? TimeSpan.FromMilliseconds(ms) : null),
                ["Processor:CheckpointInterval"] = ProcessorHost.Duration(parseResult.GetValue(checkpointInterval)),
                ["Processor:Seed"] = parseResult.GetValue(seed)?.ToString(CultureInfo.InvariantCulture),
            };

            if (await settings.CheckRegistryCredentialsAsync(cancellationToken) is { } rejected)
            {
                await stderr.WriteLineAsync($"orders: {rejected}");
                return OrdersCli.ExitFailure;
            }

            http.MapTo(parseResult, flags);

            // Under the live view, logs would tear it: errors only.
            using var loggers = showLive ? LiveView.Loggers() : settings.CreateLoggerFactory();
            using var registryClient = settings.SchemaRegistryClient();
            using var host = ProcessorHost.Build(settings, flags.Where(f => f.Value is not null).ToDictionary(), registryClient, loggers);
            var running = ProcessorHost.RunAsync(host, settings.SchemaRegistryConfig(), cancellationToken);
            if (showLive)
            {
                var view = new LiveView(host.Services.GetRequiredService<ProcessorStatus>(), $"orders consume: {settings.Topic}", TimeProvider.System)
                {
                    Dashboard = await ProcessorHost.HttpAddressAsync(host, running),
                };
                await view.RunAsync(running);
            }

            var (summary, exit, failure) = await running;
            if (failure is not null)
            {
                await stderr.WriteLineAsync($"orders: {failure}");
                return exit;
            }

            if (summary is not null)
            {
                await stdout.WriteLineAsync(settings.Json ? Summaries.ToJson(summary) : Summaries.ToText(summary));
            }

            return exit;
        });
        return command;
    }
}
