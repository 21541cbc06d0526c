using Confluent.SchemaRegistry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orders.Kafka;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Monitoring.Health;

/// <summary>Ready when partitions are assigned and every one has its state restored, until the processor is stopping.</summary>
public sealed class PartitionsReadyCheck(ProcessorStatus processor) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var view = processor.View;
        var data = new Dictionary<string, object> { ["assigned"] = view.Partitions.Count, ["restoring"] = view.Restoring };
        var result = view.Phase switch
        {
            ProcessorPhase.Stopping => HealthCheckResult.Unhealthy("the processor is stopping", data: data),
            ProcessorPhase.Restoring => HealthCheckResult.Unhealthy($"{view.Restoring} partition(s) restoring their state", data: data),
            ProcessorPhase.Waiting => HealthCheckResult.Unhealthy("no partition assigned yet", data: data),
            ProcessorPhase.NoPartitions => HealthCheckResult.Unhealthy("no partition assigned (the group gave them all to other members)", data: data),
            _ => HealthCheckResult.Healthy($"{view.Partitions.Count} partition(s) assigned, state restored", data),
        };
        return Task.FromResult(result);
    }
}

/// <summary>
/// Not ready while no Kafka broker has been connected for <see cref="Grace"/> (librdkafka's statistics,
/// about once a second): the processor reads nothing meanwhile, and loses nothing. The grace lets a
/// leader move or a reconnect pass without a blip. Healthy when the statistics are off
/// (<c>statistics.interval.ms=0</c>): the check then cannot tell.
/// </summary>
public sealed class KafkaConnectedCheck(ProcessorStatus processor) : IHealthCheck
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var statistics = processor.Statistics;
        var result = (statistics.BrokersUp, statistics.DisconnectedFor) switch
        {
            (_, { } gone) when gone >= Grace => new HealthCheckResult(
                context.Registration.FailureStatus,
                $"no Kafka broker connected (or answering) for {gone.TotalSeconds:0} s: reading nothing meanwhile, losing nothing"),
            (null, _) => HealthCheckResult.Healthy("no client statistics yet (statistics.interval.ms=0 turns them off)"),
            ({ } up, _) => HealthCheckResult.Healthy($"{up} Kafka broker(s) connected"),
        };
        return Task.FromResult(result);
    }
}

/// <summary>
/// Degraded while partitions wait for the Schema Registry (their records need a schema it has to give, and
/// it cannot be reached): they make no progress meanwhile and lose nothing. A registry that is away while
/// every schema in use is known stops nothing, so it is no reason to be unready. While partitions wait, the
/// registry is asked something cheap (<c>GET /config</c>) for the reason.
/// </summary>
public sealed class SchemaRegistryCheck(ISchemaRegistryClient registry, ProcessorStatus processor) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var waiting = processor.View.Partitions.Where(p => p.Value.Held.HasFlag(FetchHold.Registry)).Select(p => p.Key).Order().ToList();
        if (waiting.Count == 0)
        {
            return HealthCheckResult.Healthy("no partition waits for the Schema Registry");
        }

        string why;
        try
        {
            await registry.GetCompatibilityAsync().WaitAsync(cancellationToken);
            why = "it answers again; they read on at their next retry";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The check's own timeout (or the probe gone): a registry that does not answer is unreachable, not a fault of
            // the check to log with a stack trace at every probe.
            why = "it is unreachable: no answer in time";
        }
        catch (Exception e)
        {
            why = $"it is unreachable: {e.Message}";
        }

        return new HealthCheckResult(
            context.Registration.FailureStatus,
            $"{waiting.Count} partition(s) wait for the Schema Registry ({string.Join(", ", waiting)}), losing nothing: {why}",
            data: new Dictionary<string, object> { ["waiting"] = waiting.Count });
    }
}

/// <summary>
/// Alive until the processor has stopped on a fatal error (the process is about to exit with it), and
/// while its consume loop turns: a loop that has not published a view for as long as the group lets a
/// member go without polling (<c>max.poll.interval.ms</c>, 300 s by default) is stuck, and the group has
/// given its partitions away already; a restart is what helps then.
/// </summary>
public sealed class ProcessorAliveCheck(ProcessorWorker worker, ProcessorClients clients) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var limit = TimeSpan.FromMilliseconds(clients.Consumer.MaxPollIntervalMs ?? LibrdkafkaDefaults.MaxPollIntervalMs);
        return Task.FromResult(worker.Completion switch
        {
            { IsFaulted: true } failed => HealthCheckResult.Unhealthy($"the processor stopped: {failed.Exception!.InnerException!.Message}"),
            { IsCompleted: true } => HealthCheckResult.Unhealthy("the processor has finished"),
            _ when worker.Status.SinceLastView is { } quiet && quiet >= limit => HealthCheckResult.Unhealthy(
                $"the consume loop has not turned for {quiet.TotalSeconds:0} s, max.poll.interval.ms or longer: it is stuck"),
            _ => HealthCheckResult.Healthy("the processor is running"),
        });
    }
}
