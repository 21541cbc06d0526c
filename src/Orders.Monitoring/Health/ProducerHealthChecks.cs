using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orders.Producer;

namespace Orders.Monitoring.Health;

/// <summary>Ready once the producer has handed its first order to the client: a broker answered and the registry has the schema.</summary>
public sealed class ProducerSendingCheck(OrderPublisher publisher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var progress = publisher.Progress;
        var data = new Dictionary<string, object> { ["sent"] = progress.Sent, ["acknowledged"] = progress.Produced, ["failed"] = progress.Failed };
        return Task.FromResult(progress.Sent > 0
            ? HealthCheckResult.Healthy($"{progress.Produced} of {progress.Sent} orders acknowledged", data)
            : HealthCheckResult.Unhealthy("no order sent yet: waiting for a broker or the Schema Registry", data: data));
    }
}

/// <summary>Alive while the producer runs.</summary>
public sealed class ProducerAliveCheck(ProducerRun run) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(run.Running?.IsCompleted == false ? HealthCheckResult.Healthy("the producer is running") : HealthCheckResult.Unhealthy("the producer is not running"));
}

/// <summary>The producer's run, for its liveness: the verb sets it when it starts the publisher.</summary>
public sealed class ProducerRun
{
    public Task? Running { get; set; }
}
