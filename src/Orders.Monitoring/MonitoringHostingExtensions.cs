using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orders.Monitoring.Dashboard;
using Orders.Monitoring.Health;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Producer;
using Orders.Producer.Observability;

namespace Orders.Monitoring;

public static class MonitoringHostingExtensions
{
    private const string ReadyTag = "ready";
    private const string LiveTag = "live";
    private const string ProducerSection = "Producer";

    /// <summary>
    /// Serves the processor's metrics, health and dashboard over HTTP (after <c>AddOrderProcessor</c>). It reads:
    /// <code>"Processor": { "Http": { "Enabled": true, "Host": "127.0.0.1", "Port": 8080 } }</code>
    /// <c>/metrics</c> is OpenTelemetry's Prometheus exporter over the <see cref="ProcessorMetrics.MeterName"/> meter,
    /// with the processor's latency histograms added (<see cref="LatencyScrape"/>);
    /// <c>/health/live</c> and <c>/health/ready</c> are ASP.NET Core health checks; <c>/</c> is the dashboard.
    /// </summary>
    public static WebApplicationBuilder AddProcessorMonitoring(this WebApplicationBuilder builder)
    {
        // The producer's meter too: orders demo runs one in the same process, and its figures belong on the same page.
        builder.AddHttpEndpoint(ProcessorOptions.Section + ":Http", dashboard: true, "orders-processor", ProcessorMetrics.MeterName, ProducerMetrics.MeterName);
        builder.Services.AddHealthChecks()
            .AddCheck<PartitionsReadyCheck>("partitions", HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<KafkaConnectedCheck>("kafka", HealthStatus.Degraded, [ReadyTag])
            // A registry that does not answer within the timeout counts as unreachable, not as a hung probe: within a
            // Kubernetes probe's default 1 s, and below `orders health`'s 3 s, so that both see the answer and its reason.
            .AddCheck<SchemaRegistryCheck>("schema-registry", HealthStatus.Degraded, [ReadyTag], TimeSpan.FromMilliseconds(800))
            .AddCheck<ProcessorAliveCheck>("processor", HealthStatus.Unhealthy, [LiveTag]);
        builder.Services.AddSingleton(sp => new DashboardFeed(
            sp.GetRequiredService<ProcessorStatus>(),
            sp.GetRequiredService<IOptions<ProcessorOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        return builder;
    }

    /// <summary>
    /// Serves the producer's metrics and health over HTTP (after <c>AddOrderProducer</c>). It reads:
    /// <code>"Producer": { "Http": { "Host": "127.0.0.1", "Port": 9090 } }</code>
    /// The verb serves only when a port is configured (<c>orders produce --http-port</c>). <c>/metrics</c> covers the <see cref="ProducerMetrics.MeterName"/> meter.
    /// </summary>
    public static WebApplicationBuilder AddProducerMonitoring(this WebApplicationBuilder builder)
    {
        builder.AddHttpEndpoint(ProducerSection + ":Http", dashboard: false, "orders-producer", ProducerMetrics.MeterName);
        builder.Services.AddSingleton(sp => new ProducerMetrics(
            sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<OrderPublisher>(), sp.GetRequiredService<IOptions<ProducerOptions>>().Value.Topic));
        // One instance: it remembers what the last probe saw, to tell a stall.
        builder.Services.AddSingleton<ProducerSendingCheck>();
        builder.Services.AddHealthChecks()
            .AddCheck<ProducerSendingCheck>("sending", HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<ProducerAliveCheck>("producer", HealthStatus.Unhealthy, [LiveTag]);
        return builder;
    }

    /// <summary>Maps the producer's <c>/metrics</c>, <c>/health/live</c> and <c>/health/ready</c>; its instruments exist from here on.</summary>
    public static WebApplication MapProducerMonitoring(this WebApplication app)
    {
        app.Services.GetRequiredService<ProducerMetrics>();
        UseGetAndHead(app);
        app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(GetOnly);
        app.MapHealthChecks("/health/live", HealthOptions(LiveTag)).WithMetadata(GetOnly);
        app.MapHealthChecks("/health/ready", HealthOptions(ReadyTag)).WithMetadata(GetOnly);
        return app;
    }

    /// <summary>Maps <c>/metrics</c>, <c>/health/live</c>, <c>/health/ready</c> and the dashboard.</summary>
    public static WebApplication MapProcessorMonitoring(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<ProcessorMetrics>();
        UseGetAndHead(app);
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => LatencyScrape.Use(branch, metrics), optionsName: null).WithMetadata(GetOnly);
        app.MapHealthChecks("/health/live", HealthOptions(LiveTag)).WithMetadata(GetOnly);
        app.MapHealthChecks("/health/ready", HealthOptions(ReadyTag)).WithMetadata(GetOnly);
        app.MapDashboard();
        return app;
    }

    // Every endpoint here only reads: other methods get 405 (health checks and the exporter would answer any).
    private static readonly HttpMethodMetadata GetOnly = new([HttpMethods.Get]);

    /// <summary>The key of <see cref="HttpContext.Items"/> that marks a HEAD request, routed as GET: an endpoint that streams ends it after the headers.</summary>
    internal const string HeadRequest = "orders.head";

    /// <summary>
    /// Two rules before routing. On a loopback address, only requests that name a loopback host: a web
    /// page that rebinds its own name to 127.0.0.1 (DNS rebinding) could otherwise read the dashboard's
    /// figures from a browser on this machine; the endpoints have no authentication. And HEAD is
    /// answered wherever GET is, as HTTP asks of a server (uptime checkers use it): routed as GET, and
    /// Kestrel sends the headers without the body.
    /// </summary>
    private static void UseGetAndHead(WebApplication app)
    {
        var loopbackOnly = new Lazy<bool>(() => app.Services.GetRequiredService<IOptions<HttpEndpointOptions>>().Value is var endpoint
            && endpoint.TryParseHost(out var address)
            && (address is null ? endpoint.Host == "localhost" : IPAddress.IsLoopback(address)));
        app.Use((context, next) =>
        {
            if (loopbackOnly.Value && context.Request.Host.HasValue && !IsLoopbackName(context.Request.Host.Host))
            {
                context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
                context.Response.ContentType = "text/plain; charset=utf-8";
                return context.Response.WriteAsync("This endpoint listens on loopback only: ask it as localhost, 127.0.0.1 or [::1].\n");
            }

            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
                context.Items[HeadRequest] = true;
            }

            // What refuses a method names HEAD too, since it is answered wherever GET is.
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed && context.Response.Headers.Allow == HttpMethods.Get)
                {
                    context.Response.Headers.Allow = "GET, HEAD";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseRouting();
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Kestrel on the configured address, OpenTelemetry with the Prometheus exporter over <paramref name="meters"/>, and the address announced once bound.</summary>
    /// <param name="serviceName">The part's <c>service.name</c> (<c>target_info</c>'s <c>service_name</c>), unless <c>OTEL_SERVICE_NAME</c> or <c>OpenTelemetry:ServiceName</c> names one, as for traces.</param>
    public static WebApplicationBuilder AddHttpEndpoint(this WebApplicationBuilder builder, string section, bool dashboard, string serviceName, params string[] meters)
    {
        var service = new[] { Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME"), builder.Configuration["OpenTelemetry:ServiceName"] }
            .FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)) ?? serviceName;
        builder.Services.AddOptions<HttpEndpointOptions>().BindConfiguration(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HttpEndpointOptions>>(new HttpEndpointOptionsValidator(section));
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        // Kestrel reads its options while the app is built, before the options validator has had its say:
        // read the section unvalidated here, and leave bad values to the validator's one clear line at start.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((kestrel, configuration) => Listen(kestrel, configuration.GetSection(section)));
        // Named as the traces are (it was "unknown_service:orders"), so that a scrape's target says which part it is.
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(service)).WithMetrics(metrics => metrics.AddMeter(meters).AddPrometheusExporter());
        // The endpoint logs its own addresses; the console lifetime's banner would only repeat the obvious.
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HttpEndpoint>(sp, dashboard));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HttpEndpoint>());
        return builder;
    }

    private static void Listen(KestrelServerOptions kestrel, IConfigurationSection section)
    {
        kestrel.AddServerHeader = false;
        var http = new HttpEndpointOptions();
        try
        {
            section.Bind(http);
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (!http.TryParseHost(out var address) || http.Port is < 0 or > 65535)
        {
            return;
        }

        switch (http.Host)
        {
            case "localhost":
                kestrel.ListenLocalhost(http.Port);
                break;
            case "*":
                kestrel.ListenAnyIP(http.Port);
                break;
            default:
                kestrel.Listen(address!, http.Port);
                break;
        }
    }

    private static HealthCheckOptions HealthOptions(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        // Degraded is not ready: the processor waits for the registry and makes no progress meanwhile.
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
        ResponseWriter = HealthResponse.WriteAsync,
        AllowCachingResponses = false,
    };
}
