using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orders.Kafka;
using Orders.Processor.Observability;
using Orders.Producer;

namespace Orders.Monitoring.Tracing;

/// <summary>A part of the pipeline that traces: its service name (unless OTEL_SERVICE_NAME names one for all) and its span sources.</summary>
public sealed record TracedComponent(string ServiceName, params string[] Sources)
{
    public static TracedComponent Producer { get; } = new("orders-producer", ProducerTracing.SourceName);

    public static TracedComponent Processor { get; } = new("orders-processor", ProcessorTracing.SourceName);

    public static TracedComponent Replay { get; } = new("orders-dlq", "Orders.DeadLetters");
}

/// <summary>
/// The OTLP trace exporters of a process: one tracer provider per component, so that a demo's
/// producer and processor, in one process, are still two services in the traces. Disposing flushes
/// what is buffered (bounded) and stops.
/// </summary>
public sealed class OrdersTracing : IDisposable
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);
    private readonly List<TracerProvider> _providers;
    private readonly ExportFailureLog? _failures;

    private OrdersTracing(List<TracerProvider> providers, ExportFailureLog? failures) => (_providers, _failures) = (providers, failures);

    /// <param name="failures">Where the exporter's failures (a collector down, refusing, misaddressed) are logged; null: nowhere.</param>
    /// <returns>The exporters, or null when tracing is off (no listener at all: no span is made).</returns>
    public static OrdersTracing? Start(TracingSettings? settings, ILogger? failures, params TracedComponent[] components)
    {
        if (settings is null)
        {
            return null;
        }

        // The decision made before any span (see TraceSampling), by the same sampler as the providers'.
        TraceSampling.Use(settings.CreateHeadSampler());
        var log = failures is null ? null : new ExportFailureLog(failures, TimeProvider.System);
        return new OrdersTracing([.. components.Select(c => Provider(settings, c))], log);
    }

    public void Dispose()
    {
        TraceSampling.Use(null);
        foreach (var provider in _providers)
        {
            provider.ForceFlush((int)FlushTimeout.TotalMilliseconds);
            provider.Shutdown((int)FlushTimeout.TotalMilliseconds);
            provider.Dispose();
        }

        // After the last flush: its failures are said too.
        _failures?.Dispose();
    }

    private static TracerProvider Provider(TracingSettings settings, TracedComponent component) =>
        Sdk.CreateTracerProviderBuilder()
            .AddSource(component.Sources)
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(settings.ServiceName ?? component.ServiceName, serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}"))
            .SetSampler(settings.CreateSampler())
            .AddOtlpExporter(o =>
            {
                o.Endpoint = settings.Endpoint;
                o.Protocol = settings.Protocol;
                o.Headers = settings.Headers;
            })
            .Build();
}

public static class TracingHostingExtensions
{
    /// <summary>Exports the components' spans while the host runs (nothing when <paramref name="settings"/> is null); flushes when the host is disposed.</summary>
    public static IServiceCollection AddOrdersTracing(this IServiceCollection services, TracingSettings? settings, params TracedComponent[] components)
    {
        if (settings is not null)
        {
            services.AddHostedService(provider => new TracingLifetime(settings, components, provider.GetRequiredService<ILoggerFactory>()));
        }

        return services;
    }

    /// <summary>Made when the host starts its services, before any worker: every span is exported.</summary>
    private sealed class TracingLifetime(TracingSettings settings, TracedComponent[] components, ILoggerFactory loggers) : IHostedService, IDisposable
    {
        private readonly OrdersTracing? _tracing = OrdersTracing.Start(settings, loggers.CreateLogger("Orders.Tracing"), components);

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose() => _tracing?.Dispose();
    }
}
