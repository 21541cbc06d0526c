using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orders.Producer;
using Orders.Producer.Hosting;

namespace Orders.Monitoring.Health;

/// <summary>
/// Ready once the producer has handed its first order to the client (a broker answered and the
/// registry has the schema), and not while orders are in flight and none has been acknowledged for
/// <see cref="Grace"/>: the brokers are unreachable, or refuse. The check keeps what it saw at the
/// last probe (it is one instance), so a stall is seen from the second probe on.
/// </summary>
public sealed class ProducerSendingCheck(OrderPublisher publisher, TimeProvider time) : IHealthCheck
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private long _produced = -1;
    private long _progressAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var progress = publisher.Progress;
        var inFlight = progress.Sent - progress.Produced - progress.Failed;
        var data = new Dictionary<string, object> { ["sent"] = progress.Sent, ["acknowledged"] = progress.Produced, ["failed"] = progress.Failed };
        TimeSpan stalled;
        lock (_gate)
        {
            if (progress.Produced != _produced || inFlight <= 0)
            {
                (_produced, _progressAt) = (progress.Produced, time.GetTimestamp());
            }

            stalled = time.GetElapsedTime(_progressAt);
        }

        var result = (progress.Sent, inFlight) switch
        {
            (0, _) => HealthCheckResult.Unhealthy("no order sent yet: waiting for a broker or the Schema Registry", data: data),
            (_, > 0) when stalled >= Grace => HealthCheckResult.Unhealthy(
                $"{inFlight} order(s) in flight and none acknowledged for {stalled.TotalSeconds:0} s: no broker reachable, or the brokers refuse them", data: data),
            _ => HealthCheckResult.Healthy($"{progress.Produced} of {progress.Sent} orders acknowledged", data),
        };
        return Task.FromResult(result);
    }
}

/// <summary>Alive while the producer runs.</summary>
public sealed class ProducerAliveCheck(ProducerWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(worker.Completion.IsCompleted ? HealthCheckResult.Unhealthy("the producer is not running") : HealthCheckResult.Healthy("the producer is running"));
}
