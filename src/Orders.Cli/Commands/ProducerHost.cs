using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orders.Monitoring;
using Orders.Monitoring.Health;
using Orders.Producer;

namespace Orders.Cli.Commands;

/// <summary>
/// The producer's HTTP endpoint (<c>/metrics</c>, <c>/health/*</c>) beside <c>orders produce</c>.
/// Off unless a port is given (<c>--http-port</c>, <c>Producer:Http:Port</c>): a producer and a
/// processor on one machine would otherwise both want 8080.
/// </summary>
internal static class ProducerHost
{
    public const string Section = "Producer";

    public static HttpOptions Http { get; } = new(Section, onByDefault: false);

    /// <returns>The endpoint's app, not started; null when no port is configured (or <c>Producer:Http:Enabled</c> is false).</returns>
    public static WebApplication? Build(AppSettings settings, IReadOnlyDictionary<string, string?> flags, OrderPublisher publisher, ILoggerFactory loggers)
    {
        var configuration = new ConfigurationManager();
        configuration.AddConfiguration(settings.Configuration);
        configuration.AddInMemoryCollection(flags);
        if (configuration[$"{Section}:Http:Port"] is null || (bool.TryParse(configuration[$"{Section}:Http:Enabled"], out var enabled) && !enabled))
        {
            return null;
        }

        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "orders" });
        web.Configuration.AddConfiguration(settings.Configuration).AddInMemoryCollection(flags);
        web.Services.Replace(ServiceDescriptor.Singleton(loggers));
        web.AddProducerMonitoring(publisher, settings.Topic);
        var app = web.Build();
        app.MapProducerMonitoring();
        return app;
    }

    /// <returns>Null once listening; otherwise the one-line error.</returns>
    public static async Task<string?> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
            return null;
        }
        catch (Exception e) when (Http.DescribeStartFailure(e, app) is { } failure)
        {
            return failure;
        }
    }

    /// <summary>Tells the endpoint's liveness check what to watch.</summary>
    public static void Watch(WebApplication? app, Task running)
    {
        if (app is not null)
        {
            app.Services.GetRequiredService<ProducerRun>().Running = running;
        }
    }
}
