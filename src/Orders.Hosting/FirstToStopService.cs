using Microsoft.Extensions.Hosting;

namespace Orders.Hosting;

/// <summary>
/// A worker the host stops before any other service, whatever the order of registration: the host
/// calls every <see cref="IHostedLifecycleService.StoppingAsync"/> before any service's
/// <see cref="IHostedService.StopAsync"/>, and this one stops its work there and waits for it (within
/// the host's shutdown timeout). What serves the worker's health and metrics (ASP.NET Core's server,
/// which the host would otherwise stop first, as the last service started) then still answers while
/// the worker checkpoints and closes: a probe sees "stopping", a scrape the last figures, instead of
/// a refused connection. Workers of this kind stop among themselves in the reverse order of
/// registration, as hosted services do.
/// </summary>
public abstract class FirstToStopService : BackgroundService, IHostedLifecycleService
{
    /// <summary>Cancels the worker's token and waits for its work to end, or for <paramref name="cancellationToken"/> (the host's shutdown timeout).</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => StopAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
