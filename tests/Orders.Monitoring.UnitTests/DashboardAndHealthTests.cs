using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Orders.Monitoring.Dashboard;
using Orders.Monitoring.Health;
using Orders.Processor.Aggregates;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Monitoring.UnitTests;

/// <summary>What the dashboard and the health checks make of the processor's published view.</summary>
public sealed class DashboardAndHealthTests
{
    private readonly ProcessorStatus _status = new("orders", readCommitted: false);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void DashboardJson_IsMadeOnceForEveryClient_WhileTheViewIsTheSame_AndAtMostForASecond()
    {
        Publish(new Dictionary<int, PartitionView> { [0] = new(10, 8, 10) });
        var feed = new DashboardFeed(_status, new ProcessorOptions(), _time);

        var first = feed.CurrentJson();
        Assert.Same(first, feed.CurrentJson());

        // A new view: a new state at once.
        Publish(new Dictionary<int, PartitionView> { [0] = new(20, 8, 20) });
        var second = feed.CurrentJson();
        Assert.NotSame(first, second);
        Assert.Contains("\"nextOffset\":20", second, StringComparison.Ordinal);

        // The same view, but older than the bound: made again (its time and lag move on).
        _time.Advance(DashboardFeed.SharedFor);
        Assert.NotSame(second, feed.CurrentJson());
    }

    [Fact]
    public void Dashboard_APartitionHeldFromFetching_SaysWhy_OneThatFetches_SaysNothing()
    {
        Publish(
            new Dictionary<int, PartitionView>
            {
                [0] = new(10, 8, 10) { Held = FetchHold.Checkpoint | FetchHold.Backpressure },
                [1] = new(5, 5, 5),
            });

        var partitions = new DashboardFeed(_status, new ProcessorOptions(), _time).Current().Partitions;

        Assert.Equal("checkpoint, backpressure", partitions.Single(p => p.Partition == 0).Held);
        Assert.Null(partitions.Single(p => p.Partition == 1).Held);
    }

    [Fact]
    public void Dashboard_MinimumsAndMaximums_AreTheExactAmounts()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        aggregate.Add("EUR", "kettle", 463.04, 3, 0);
        aggregate.Add("EUR", "mug", 0.1, 3, 0);
        Publish(new Dictionary<int, PartitionView> { [0] = new(2, 0, 2) }, aggregate.ToData());

        var eur = new DashboardFeed(_status, new ProcessorOptions(), _time).Current().Currencies.Single();

        Assert.Equal((0.1m, 463.04m), (eur.Price.Min, eur.Price.Max));
        // Price x quantity, exactly: not the doubles 0.30000000000000004 and 1389.1200000000001.
        Assert.Equal((0.3m, 1389.12m), (eur.OrderValue.Min, eur.OrderValue.Max));
    }

    [Fact]
    public async Task Ready_OnlyWhenPartitionsAreAssigned_AndNoneIsStillRestoring()
    {
        var check = new PartitionsReadyCheck(_status);
        var context = new HealthCheckContext();

        var before = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        Publish(new Dictionary<int, PartitionView> { [0] = new(0, 0, 0) }, restoring: 1);
        var restoring = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        Publish(new Dictionary<int, PartitionView> { [0] = new(0, 0, 0), [1] = new(0, 0, 0) });
        var ready = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);

        Assert.Equal((HealthStatus.Unhealthy, "no partition assigned yet"), (before.Status, before.Description));
        Assert.Equal((HealthStatus.Unhealthy, "1 partition(s) restoring their state"), (restoring.Status, restoring.Description));
        Assert.Equal((HealthStatus.Healthy, "2 partition(s) assigned, state restored"), (ready.Status, ready.Description));
    }

    [Fact]
    public async Task Ready_NotWhileTheProcessorIsStopping_ThoughItStillShowsItsPartitions()
    {
        var check = new PartitionsReadyCheck(_status);
        Publish(new Dictionary<int, PartitionView> { [0] = new(5, 5, 5) }, stopping: true);

        var stopping = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        Assert.Equal((HealthStatus.Unhealthy, "the processor is stopping"), (stopping.Status, stopping.Description));
    }

    [Fact]
    public void DashboardStatus_SaysStopping_AsReadinessDoes_ThoughThePartitionsAreStillShown()
    {
        Publish(new Dictionary<int, PartitionView> { [0] = new(5, 5, 5) }, stopping: true);

        var state = new DashboardFeed(_status, new ProcessorOptions(), _time).Current();

        Assert.Equal(("stopping", 1), (state.Status, state.Partitions.Count));
    }

    [Fact]
    public async Task Ready_NotOnceNoBrokerHasBeenConnectedForTheGrace_AndAgainWhenOneIs()
    {
        var status = new ProcessorStatus("orders", readCommitted: false, _time);
        var check = new KafkaConnectedCheck(status);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("kafka", check, HealthStatus.Degraded, ["ready"]) };
        const string Up = """{"brokers":{"b:9092/1":{"nodeid":1,"state":"UP"},"GroupCoordinator":{"nodeid":-1,"state":"UP"}}}""";
        const string Down = """{"brokers":{"b:9092/bootstrap":{"nodeid":-1,"state":"UP"},"b:9092/1":{"nodeid":1,"state":"TRY_CONNECT"},"GroupCoordinator":{"nodeid":-1,"state":"UP"}}}""";

        var before = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        status.Statistics.Update(Up);
        var up = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        // Statistics come about once a second: the time counts from the last that showed a broker up.
        _time.Advance(TimeSpan.FromSeconds(1));
        status.Statistics.Update(Down);
        _time.Advance(KafkaConnectedCheck.Grace - TimeSpan.FromSeconds(2));
        var withinGrace = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(1));
        status.Statistics.Update(Down);
        var down = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        status.Statistics.Update(Up);
        var back = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, before.Status);
        Assert.Equal((HealthStatus.Healthy, "1 Kafka broker(s) connected"), (up.Status, up.Description));
        Assert.Equal(HealthStatus.Healthy, withinGrace.Status);
        Assert.Equal((HealthStatus.Degraded, "no Kafka broker connected (or answering) for 10 s: reading nothing meanwhile, losing nothing"), (down.Status, down.Description));
        Assert.Equal(HealthStatus.Healthy, back.Status);
    }

    [Fact]
    public async Task Live_WhileTheLoopPublishes_NotOnceItHasNotForMaxPollInterval()
    {
        var status = new ProcessorStatus("orders", readCommitted: false, _time);
        var clients = new ProcessorClients(new Confluent.Kafka.ConsumerConfig { MaxPollIntervalMs = 60_000 }, new Confluent.Kafka.ProducerConfig());
        // Never started: only its status and completion are read.
        var worker = new ProcessorWorker(
            clients, new ProcessorServices(new ProcessorOptions(), null!, null!, null!, status, _time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance), null!);
        var check = new ProcessorAliveCheck(worker, clients);
        var context = new HealthCheckContext();

        var starting = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        status.Publish(new ProcessorView(status.Counters, AggregateData.Empty, new Dictionary<int, PartitionView>(), 0, EverAssigned: true));
        _time.Advance(TimeSpan.FromSeconds(59));
        var turning = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(1));
        var stuck = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, starting.Status);
        Assert.Equal(HealthStatus.Healthy, turning.Status);
        Assert.Equal((HealthStatus.Unhealthy, "the consume loop has not turned for 60 s, max.poll.interval.ms or longer: it is stuck"), (stuck.Status, stuck.Description));
    }

    private void Publish(Dictionary<int, PartitionView> partitions, AggregateData? aggregates = null, int restoring = 0, bool stopping = false) =>
        _status.Publish(new ProcessorView(_status.Counters, aggregates ?? AggregateData.Empty, partitions, restoring, EverAssigned: true) { Stopping = stopping });
}
