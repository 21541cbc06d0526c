using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Orders.Hosting.UnitTests;

public sealed class FirstToStopServiceTests
{
    [Fact]
    public async Task Stop_EndsTheWorkersWorkBeforeAnyOtherServiceStops_EvenOneRegisteredAfterIt()
    {
        var events = new List<string>();
        var worker = new Worker(events);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddHostedService(_ => worker);
        // Registered last, so started last and, as a plain hosted service, stopped first (as ASP.NET Core's server is).
        builder.Services.AddHostedService(_ => new Endpoint(events));
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        await worker.Running.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["worker's work ended", "endpoint stopped"], Snapshot(events));
    }

    [Fact]
    public async Task Stop_WaitsForTheWorkNoLongerThanTheShutdownTimeout()
    {
        var events = new List<string>();
        var worker = new Worker(events, ignoresStop: true);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddHostedService(_ => worker);
        builder.Services.AddHostedService(_ => new Endpoint(events));
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        await worker.Running.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // The work never ends: the stop still does, and the other service is stopped after all.
        await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(["endpoint stopped"], Snapshot(events));
        worker.Release();
    }

    private static string[] Snapshot(List<string> events)
    {
        lock (events)
        {
            return [.. events];
        }
    }

    private static void Add(List<string> events, string text)
    {
        lock (events)
        {
            events.Add(text);
        }
    }

    private sealed class Worker(List<string> events, bool ignoresStop = false) : FirstToStopService
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Running.TrySetResult();
            try
            {
                await (ignoresStop ? _release.Task : Task.Delay(Timeout.Infinite, stoppingToken));
            }
            catch (OperationCanceledException)
            {
                // Stopped: the work ends, after a moment of its own (a close, a checkpoint).
                await Task.Delay(100, CancellationToken.None);
            }

            Add(events, "worker's work ended");
        }
    }

    private sealed class Endpoint(List<string> events) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Add(events, "endpoint stopped");
            return Task.CompletedTask;
        }
    }
}
