using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orders.Producer;
using Orders.Producer.Hosting;

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
public sealed class ProducerAliveCheck(ProducerWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(worker.Completion.IsCompleted ? HealthCheckResult.Unhealthy("the producer is not running") : HealthCheckResult.Healthy("the producer is running"));
}
