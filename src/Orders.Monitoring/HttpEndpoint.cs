using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orders.Monitoring;

/// <summary>The address the HTTP endpoint listens on, known once the host has started (port 0 picks one), and logged then.</summary>
/// <param name="dashboard">Whether <c>/</c> serves a dashboard (the processor's does; the producer's endpoint has none).</param>
public sealed partial class HttpEndpoint(IServer server, IHostApplicationLifetime lifetime, ILogger<HttpEndpoint> logger, bool dashboard) : IHostedService
{
    private readonly TaskCompletionSource<Uri> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the base address (<c>http://127.0.0.1:8080/</c>) when the host has started.</summary>
    public Task<Uri> Started => _started.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Announce);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Announce()
    {
        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (bound is null || !Uri.TryCreate(bound, UriKind.Absolute, out var uri))
        {
            return;
        }

        // Bound to every interface ("*" shows as [::] or 0.0.0.0): this machine reaches it as localhost.
        var host = uri.Host is "[::]" or "0.0.0.0" or "::" ? "localhost" : uri.Host;
        var address = new UriBuilder(uri.Scheme, host, uri.Port, "/").Uri;
        if (dashboard)
        {
            LogListening(logger, address, new Uri(address, "metrics"), new Uri(address, "health/ready"));
        }
        else
        {
            LogListeningWithoutDashboard(logger, new Uri(address, "metrics"), new Uri(address, "health/ready"));
        }

        _started.TrySetResult(address);
    }

    [LoggerMessage(1, LogLevel.Information, "Dashboard on {Address}; Prometheus metrics on {Metrics}; health on {Health} and /health/live")]
    private static partial void LogListening(ILogger logger, Uri address, Uri metrics, Uri health);

    [LoggerMessage(2, LogLevel.Information, "Prometheus metrics on {Metrics}; health on {Health} and /health/live")]
    private static partial void LogListeningWithoutDashboard(ILogger logger, Uri metrics, Uri health);
}
