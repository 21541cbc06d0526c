using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orders.Producer;
using Orders.Producer.Hosting;

namespace Orders.Monitoring.Health;

/// <summary>
/// Ready once the producer has handed its first order to the client (a broker answered and the
/// registry has the schema), and not once <see cref="Grace"/> has passed without an acknowledgement
/// while orders are in flight or deliveries fail: the brokers are unreachable, or refuse them (an
/// error that comes back at once, such as an authorization refused, leaves nothing in flight). The
/// check keeps what it saw at the last probe (it is one instance), so a stall is seen from the second
/// probe on.
/// </summary>
public sealed class ProducerSendingCheck : IHealthCheck
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private readonly Func<ProducerProgress> _progress;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _produced = -1;
    private long _failedAtProgress;
    private long _progressAt;

    public ProducerSendingCheck(OrderPublisher publisher, TimeProvider time)
        : this(() => publisher.Progress, time)
    {
    }

    /// <param name="progress">The producer's counts now.</param>
    internal ProducerSendingCheck(Func<ProducerProgress> progress, TimeProvider time) => (_progress, _time) = (progress, time);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var progress = _progress();
        var inFlight = progress.Sent - progress.Produced - progress.Failed;
        var data = new Dictionary<string, object> { ["sent"] = progress.Sent, ["acknowledged"] = progress.Produced, ["failed"] = progress.Failed };
        TimeSpan stalled;
        long failedSince;
        lock (_gate)
        {
            // Progress: an acknowledgement, or nothing left to wait for and no new failure (an idle producer).
            if (progress.Produced != _produced || (inFlight <= 0 && progress.Failed == _failedAtProgress))
            {
                (_produced, _failedAtProgress, _progressAt) = (progress.Produced, progress.Failed, _time.GetTimestamp());
            }

            stalled = _time.GetElapsedTime(_progressAt);
            failedSince = progress.Failed - _failedAtProgress;
        }

        var result = (progress.Sent, inFlight, failedSince) switch
        {
            (0, _, _) => HealthCheckResult.Unhealthy("no order sent yet: waiting for a broker or the Schema Registry", data: data),
            (_, _, > 0) when stalled >= Grace => HealthCheckResult.Unhealthy(
                $"{failedSince} order(s) failed and none acknowledged for {stalled.TotalSeconds:0} s: the brokers refuse them, or none is reachable", data: data),
            (_, > 0, _) when stalled >= Grace => HealthCheckResult.Unhealthy(
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
