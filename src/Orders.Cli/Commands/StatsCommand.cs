using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orders.Cli.Hosting;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.Hosting;

namespace Orders.Cli.Commands;

/// <summary>
/// <c>orders stats</c>: the global figures, combined from every partition's newest checkpoint on
/// the stats topic. It joins no group and needs no processor running: any machine that reaches
/// Kafka and the registry gets the same answer, however many processors wrote the checkpoints.
/// </summary>
internal static class StatsCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions();
        var group = new Option<string?>("--group") { Description = $"The processors' consumer group (default {ProcessorOptions.DefaultGroup}; Processor:GroupId)." };
        var watch = CliOptions.Seconds("--watch", "Refresh every this many seconds (default 2) until Ctrl+C.");
        watch.Arity = ArgumentArity.ZeroOrOne;
        var windowMinutes = CliOptions.Positive("--minutes", 60, 10080, "Per-minute averages shown: the newest this many minutes.");
        var command = new Command("stats", "Global, per-product and per-minute averages from every partition's checkpoint.")
        {
            group, watch, windowMinutes,
        };
        client.AddTo(command, flags);
        flags.Add(group, "Processor:GroupId");
        command.Validators.Add(result =>
        {
            if (result.GetResult(watch) is not null && result.GetValue(client.Json))
            {
                result.AddError("--watch refreshes the figures and --json prints exactly one document: choose one");
            }
        });
        command.SetAction((parseResult, cancellationToken) => VerbRun.RunAsync(stderr, async run =>
        {
            var settings = client.Load(parseResult, flags);
            var groupId = settings.Configuration["Processor:GroupId"] ?? ProcessorOptions.DefaultGroup;
            if (ReaderGroups.Problem(groupId) is { } problem)
            {
                return await run.FailAsync(OrdersCli.ExitUsage, $"Processor:GroupId (--group) {problem}");
            }

            TimeSpan? interval = parseResult.GetResult(watch) is null ? null : parseResult.GetValue(watch) ?? TimeSpan.FromSeconds(2);
            using var loggers = settings.CreateLoggerFactory();
            using var registry = settings.SchemaRegistryClient();
            var host = run.Own(CliHost.Build(CliHost.CreateBuilder(settings, loggers, registry, web: false)));
            var logger = loggers.CreateLogger("Orders.Stats");
            // The client's lines through the log, repeats counted; until a broker answers, one line says it waits, as the other verbs do.
            var route = new KafkaLogRoute(logger, TimeProvider.System);
            route.HoldNoBrokerErrors();
            var adminConfig = settings.AdminConfig();
            using var admin = new AdminClientBuilder(adminConfig).LogTo(route).LogErrorsTo(route).Build();
            await BrokerWait.FirstMetadataAsync(admin, route, adminConfig.BootstrapServers, ReadTimeout, logger, TimeProvider.System, cancellationToken);
            using var reader = new PartitionRangeReader(settings.ReaderConfig(), logger);
            var checkpoints = new CheckpointReader(reader, new CheckpointSerde(host.Services.GetRequiredService<ISchemaRegistryClient>()), logger);
            while (true)
            {
                GlobalStats stats;
                try
                {
                    // Ctrl+C ends the wait at once; the call ends with the process.
                    stats = await BlockingCall.RunAsync(() => Read(settings, admin, reader, checkpoints, groupId, parseResult.GetValue(windowMinutes)), cancellationToken)
                        .WaitAsync(cancellationToken);
                }
                catch (Exception e) when (e is KafkaException or RegistryUnavailableException or TimeoutException or InvalidOperationException)
                {
                    return await run.FailAsync(OrdersCli.ExitFailure, $"cannot read the checkpoints: {e.Message}");
                }

                await stdout.WriteLineAsync(settings.Json ? JsonSerializer.Serialize(Document(stats), Indented) : Text(stats));
                await stdout.FlushAsync(cancellationToken);
                if (interval is not { } every)
                {
                    return OrdersCli.ExitOk;
                }

                try
                {
                    await Task.Delay(every, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return OrdersCli.ExitOk;
                }
            }
        }));
        return command;
    }

    /// <param name="StartOffset">Where the partition starts now (retention moves it): a processor without a checkpoint reads from there.</param>
    private sealed record PartitionStats(int Partition, PartitionCheckpoint? Checkpoint, long StartOffset, long EndOffset)
    {
        /// <summary>Records not yet in a checkpoint: from the checkpoint's next offset, or from the partition's start without one.</summary>
        public long Lag => Math.Max(0, EndOffset - (Checkpoint?.NextOffset ?? StartOffset));
    }

    private sealed record GlobalStats(string Topic, string StatsTopic, string Group, IReadOnlyList<PartitionStats> Partitions, AggregateData Combined);

    /// <summary>How long the verb waits for a broker at start, and for each read.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private static GlobalStats Read(CliSettings settings, IAdminClient admin, PartitionRangeReader reader, CheckpointReader checkpoints, string group, int windowMinutes)
    {
        var topic = settings.ProcessorTopic;
        var statsTopic = Orders.Contracts.Topics.StatsFor(topic);
        var timeout = ReadTimeout;

        // All topics: asking for one by name could auto-create it.
        var topics = admin.GetMetadata(timeout).Topics;
        var metadata = topics.FirstOrDefault(t => t.Topic == statsTopic);
        if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
        {
            throw new InvalidOperationException($"{statsTopic} does not exist: no processor of {topic} has run against this cluster");
        }

        var ids = metadata.Partitions.Select(p => p.PartitionId).Order().ToList();
        // The figures are the input's partitions' (their lag too): partition n is checkpointed in partition n of the stats topic.
        if (topics.FirstOrDefault(t => t.Topic == topic) is { Error.IsError: false, Partitions.Count: > 0 } input && input.Partitions.Count != ids.Count)
        {
            throw new InvalidOperationException(
                $"{topic} has {input.Partitions.Count} partitions and {statsTopic} {ids.Count}: each partition is checkpointed in the stats partition of its number, " +
                $"so the processor refuses to run until they match (add partitions to {(input.Partitions.Count > ids.Count ? statsTopic : topic)})");
        }

        var latest = checkpoints.ReadLatest(statsTopic, group, ids, timeout);
        var partitions = ids
            .Select(p => (Id: p, Watermarks: reader.Watermarks(new TopicPartition(topic, p), timeout)))
            .Select(p => new PartitionStats(p.Id, latest[p.Id], p.Watermarks.Low.Value, p.Watermarks.High.Value))
            .ToList();
        var combined = AggregateData.Combine(partitions.Where(p => p.Checkpoint is not null).Select(p => p.Checkpoint!.Data), windowMinutes);
        return new GlobalStats(topic, statsTopic, group, partitions, combined);
    }

    private static Dictionary<string, object?> Document(GlobalStats stats)
    {
        var document = new Dictionary<string, object?>
        {
            ["topic"] = stats.Topic,
            ["group"] = stats.Group,
            ["partitions"] = stats.Partitions.Select(p => new Dictionary<string, object?>
            {
                ["partition"] = p.Partition,
                ["checkpointed"] = p.Checkpoint is not null,
                ["nextOffset"] = p.Checkpoint?.NextOffset,
                ["endOffset"] = p.EndOffset,
                ["lag"] = p.Lag,
                ["writtenAt"] = p.Checkpoint?.WrittenAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["count"] = p.Checkpoint?.Data.Count ?? 0,
            }).ToList(),
            ["partitionsWithoutCheckpoint"] = stats.Partitions.Count(p => p.Checkpoint is null),
        };
        AggregateDocuments.AddTo(document, stats.Combined);
        return document;
    }

    private static string Text(GlobalStats stats)
    {
        var lines = new List<string>
        {
            $"{stats.Topic}, group {stats.Group}: {stats.Partitions.Count(p => p.Checkpoint is not null)} of {stats.Partitions.Count} partitions checkpointed; lag {stats.Partitions.Sum(p => p.Lag)} records.",
        };
        lines.AddRange(AggregateDocuments.Lines(stats.Combined));
        return string.Join(Environment.NewLine, lines);
    }
}
