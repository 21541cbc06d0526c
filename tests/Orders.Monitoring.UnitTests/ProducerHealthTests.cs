using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Orders.Monitoring.Health;
using Orders.Producer;

namespace Orders.Monitoring.UnitTests;

/// <summary>What the producer's readiness makes of its counts over successive probes.</summary>
public sealed class ProducerHealthTests
{
    private readonly FakeTimeProvider _time = new();
    private ProducerProgress _progress = new(0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Ready_NotOnceOrdersInFlightGoUnacknowledgedForTheGrace()
    {
        var check = new ProducerSendingCheck(() => _progress, _time);
        _progress = new(100, 50, 0, TimeSpan.Zero);
        var sending = await ProbeAsync(check);
        _progress = new(200, 50, 0, TimeSpan.Zero);
        _time.Advance(ProducerSendingCheck.Grace);
        var stalled = await ProbeAsync(check);

        Assert.Equal(HealthStatus.Healthy, sending.Status);
        Assert.Equal((HealthStatus.Unhealthy, "150 order(s) in flight and none acknowledged for 10 s: no broker reachable, or the brokers refuse them"), (stalled.Status, stalled.Description));
    }

    [Fact]
    public async Task Ready_NotOnceEveryDeliveryFailsForTheGrace_ThoughNothingIsInFlight()
    {
        // An error that comes back at once (authorization refused, say): nothing stays in flight.
        var check = new ProducerSendingCheck(() => _progress, _time);
        _progress = new(10, 10, 0, TimeSpan.Zero);
        var first = await ProbeAsync(check);
        _progress = new(500, 10, 490, TimeSpan.Zero);
        _time.Advance(TimeSpan.FromSeconds(5));
        var withinGrace = await ProbeAsync(check);
        _progress = new(1000, 10, 990, TimeSpan.Zero);
        _time.Advance(TimeSpan.FromSeconds(5));
        var failing = await ProbeAsync(check);
        _progress = new(1010, 20, 990, TimeSpan.Zero);
        var back = await ProbeAsync(check);

        Assert.Equal(HealthStatus.Healthy, first.Status);
        Assert.Equal(HealthStatus.Healthy, withinGrace.Status);
        Assert.Equal((HealthStatus.Unhealthy, "990 order(s) failed and none acknowledged for 10 s: the brokers refuse them, or none is reachable"), (failing.Status, failing.Description));
        Assert.Equal(HealthStatus.Healthy, back.Status);
    }

    [Fact]
    public async Task Ready_AnIdleProducer_NothingInFlightAndNoFailure_StaysReady()
    {
        var check = new ProducerSendingCheck(() => _progress, _time);
        _progress = new(10, 9, 1, TimeSpan.Zero);
        await ProbeAsync(check);
        _time.Advance(TimeSpan.FromMinutes(5));

        var idle = await ProbeAsync(check);

        Assert.Equal(HealthStatus.Healthy, idle.Status);
    }

    [Fact]
    public async Task Ready_NotBeforeTheFirstOrderIsSent()
    {
        var check = new ProducerSendingCheck(() => _progress, _time);

        var before = await ProbeAsync(check);

        Assert.Equal((HealthStatus.Unhealthy, "no order sent yet: waiting for a broker or the Schema Registry"), (before.Status, before.Description));
    }

    private static Task<HealthCheckResult> ProbeAsync(ProducerSendingCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
}
