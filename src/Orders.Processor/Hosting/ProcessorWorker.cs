using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Hosting;

/// <summary>The processor's Kafka client settings: configuration's <c>Kafka</c> section with the processor's own on top (<see cref="ProcessorClientConfig"/>).</summary>
public sealed record ProcessorClients(ConsumerConfig Consumer, ProducerConfig Producer);

/// <summary>
/// Runs the processor for the host: resolves the topic layout, opens the <see cref="KafkaSession"/>,
/// runs the <see cref="ConsumeLoop"/> on a thread of its own (it blocks waiting for records) until the host
/// stops it, or until it ends by itself (idle, or a fatal error), which stops the host.
/// <see cref="Completion"/> gives the summary or the error; <see cref="ProcessorStatus"/> what it is doing meanwhile.
/// A stop of the host stops it before the HTTP endpoint (<see cref="FirstToStopService"/>): its health
/// answers "stopping" while it checkpoints and leaves the group.
/// </summary>
public sealed class ProcessorWorker(
    ProcessorClients clients,
    ProcessorServices services,
    IHostApplicationLifetime lifetime) : FirstToStopService
{
    private readonly TaskCompletionSource<ProcessorSummary> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<ProcessorSummary> Completion => _completion.Task;

    public ProcessorStatus Status => services.Status;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(
            () =>
            {
                // A thread of its own (long-running): named, for thread dumps, top -H and the bench's CPU by thread.
                Thread.CurrentThread.Name = "orders loop";
                LoopThread.Run(async () =>
                {
                    try
                    {
                        // Nothing connects before the whole host is up: a port that cannot be bound stops it first.
                        await HostStarted.WaitAsync(lifetime, stoppingToken);
                        _completion.TrySetResult(await RunAsync(stoppingToken));
                    }
                    catch (Exception e)
                    {
                        _completion.TrySetException(e);
                    }
                    finally
                    {
                        lifetime.StopApplication();
                    }
                });
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    /// <exception cref="BrokerUnreachableException">No broker answered at start.</exception>
    /// <exception cref="TopicLayoutException">The topics cannot be used (partition counts that do not match).</exception>
    /// <exception cref="Failures.ProcessorGaveUpException">With <c>--until-idle</c>: the topic never appeared, no partition was assigned, or the registry stayed away.</exception>
    /// <exception cref="GroupProtocolException">Kafka:group.protocol asks for a protocol the broker does not offer.</exception>
    /// <exception cref="KafkaException">A fatal client error.</exception>
    /// <exception cref="DeadLetterWriteException">A dead letter can never be written.</exception>
    private async Task<ProcessorSummary> RunAsync(CancellationToken cancellationToken)
    {
        var (options, time) = (services.Options, services.Time);
        var logger = services.Loggers.CreateLogger<ProcessorWorker>();
        // While the topics are resolved and the group joined, not on the loop's thread during the first records:
        // the code compiled, and the writer schema the records most likely carry fetched and planned.
        CodeWarmup.Start(logger);
        _ = Task.Run(() => ResolveWriterSchemaAsync(options.Topic, logger), CancellationToken.None);
        // The admin client takes the producer's settings: it would warn about every consumer-only one.
        var layout = await TopicLayout.ResolveAsync(
            clients.Producer, options.Topic, options.DeadLetterTopic, options.StatsTopic, options.CreatedTopics, options.BrokerTimeout,
            options.UntilIdle is null ? null : new IdleWatch(time, options.UntilIdle, options.FirstAssignmentWait).PatienceLimit,
            logger, time, cancellationToken);
        Log.Layout(logger, layout.Topic, layout.Partitions, layout.DeadLetterTopic, layout.DeadLetterPartitions, layout.StatsTopic);
        var protocol = GroupProtocolChoice.Decide(clients.Consumer, await BrokerApis.ProbeAsync(clients.Consumer, options.BrokerTimeout, cancellationToken));
        Log.GroupProtocol(logger, protocol.Name, protocol.Reason);

        var (producer, checkpointRecordLimit) = ProcessorClientConfig.ForStateTopics(clients.Producer, layout.StatsMaxMessageBytes, layout.DeadLetterMaxMessageBytes);
        layout = layout with { CheckpointRecordLimit = checkpointRecordLimit };

        var fatal = new FatalSignal();
        using var session = new KafkaSession(
            ProcessorClientConfig.ForProtocol(clients.Consumer, protocol.Protocol),
            producer,
            services.Status,
            fatal,
            options.FetchAhead,
            options.CloseTimeout,
            time,
            services.Loggers.CreateLogger<KafkaSession>());
        KafkaStateSource StateSource(PartitionRangeReader reader) => new(
            layout, options.GroupId, reader, new CheckpointReader(reader, services.Serde, services.Loggers.CreateLogger<CheckpointReader>()), new DeadLetterLedger(reader));
        var ports = new ProcessorPorts(session.Consumer, session.Producer, StateSource(session.Reader), new SpareStateSource(() => StateSource(session.SpareReader)));
        var loop = new ConsumeLoop(LoopParts.Create(services, layout, ports, fatal, cancellationToken));
        return await loop.RunAsync(cancellationToken);
    }

    /// <summary>Best effort (<see cref="Decoding.OrderDecoder.ResolveLatestAsync"/>): a record whose schema is not resolved yet waits for the registry, as always.</summary>
    private async Task ResolveWriterSchemaAsync(string topic, ILogger logger)
    {
        var subject = Contracts.Topics.ValueSubjectFor(topic);
        var (schemaId, error) = await services.Decoder.ResolveLatestAsync(subject);
        if (schemaId is { } id)
        {
            Log.WriterSchemaResolved(logger, id, subject);
        }
        else
        {
            Log.WriterSchemaNotResolved(logger, subject, error);
        }
    }
}
