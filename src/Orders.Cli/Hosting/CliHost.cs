using Confluent.SchemaRegistry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orders.Cli.Settings;
using Orders.Hosting;
using Orders.Monitoring.Tracing;

namespace Orders.Cli.Hosting;

/// <summary>
/// The one host shape of every verb: the configuration sources in the documented order
/// (<see cref="CliSettings"/>), the redacting loggers, and one registry client built from the
/// <c>SchemaRegistry</c> section. A verb adds its components (<c>AddOrderProcessor</c>,
/// <c>AddOrderProducer</c>, the local stack, monitoring, the live view) and runs it with
/// <see cref="RunAsync{T}"/>; a one-shot verb (stats, dlq) resolves what it needs from it.
/// </summary>
internal static class CliHost
{
    /// <param name="web">With Kestrel (for <c>/metrics</c>, health and the dashboard), or a plain host.</param>
    /// <param name="traced">The parts of the verb whose spans are exported when tracing is configured (<see cref="CliSettings.Tracing"/>).</param>
    public static IHostApplicationBuilder CreateBuilder(CliSettings settings, ILoggerFactory loggers, ISchemaRegistryClient? registry, bool web, params TracedComponent[] traced)
    {
        IHostApplicationBuilder builder = web
            ? WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "orders" })
            : Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "orders" });
        settings.AddSourcesTo(builder.Configuration);
        builder.Services.Replace(ServiceDescriptor.Singleton(loggers));
        builder.Services.AddSingleton(settings);
        // First of the hosted services, so its exporters exist before any worker makes a span.
        builder.Services.AddOrdersTracing(settings.Tracing, traced);
        if (registry is not null)
        {
            builder.Services.AddSingleton(registry);
        }

        // On SIGINT/SIGTERM the workers finish the record in hand, checkpoint and close; give them time to.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = StopLimit.AfterSignal);
        // The verbs say what they do themselves; "Application started. Press Ctrl+C" is chatter.
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        return builder;
    }

    /// <param name="map">Maps the web host's endpoints (ignored for a plain host).</param>
    public static IHost Build(IHostApplicationBuilder builder, Action<WebApplication>? map = null)
    {
        if (builder is WebApplicationBuilder web)
        {
            var app = web.Build();
            map?.Invoke(app);
            return app;
        }

        return ((HostApplicationBuilder)builder).Build();
    }

    /// <summary>Starts the host, waits until its worker ends by itself or the token fires, then stops it.</summary>
    /// <returns>The worker's result; default when stopped before it started.</returns>
    /// <exception cref="Exception">The worker's failure, or why the host could not start (see <see cref="CliFailures"/>).</exception>
    public static async Task<T?> RunAsync<T>(IHost host, Task<T> completion, CancellationToken cancellationToken) =>
        await StartAsync(host, cancellationToken) ? await FinishAsync(host, completion, cancellationToken) : default;

    /// <summary>Checks every option type first (a bad setting is one line, not the host's start failure), then starts the host.</summary>
    /// <returns>False when cancelled before it started.</returns>
    public static async Task<bool> StartAsync(IHost host, CancellationToken cancellationToken)
    {
        Validate(host);
        try
        {
            await host.StartAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await host.StopAsync(CancellationToken.None);
            return false;
        }
        catch (OperationCanceledException)
        {
            // A worker failed at once and stopped the host while the rest of it (the HTTP
            // endpoint) was still starting: its completion says why.
            return true;
        }
    }

    /// <summary>
    /// Waits until a worker ends by itself (it then asks the host to stop), <paramref name="completion"/>
    /// ends, or the token fires (Ctrl+C, SIGTERM, a verb's deadline); then stops the host.
    /// </summary>
    /// <exception cref="Exception">The worker's failure.</exception>
    public static async Task<T> FinishAsync<T>(IHost host, Task<T> completion, CancellationToken cancellationToken)
    {
        await FinishAsync(host, (Task)completion, cancellationToken);
        return await completion;
    }

    /// <inheritdoc cref="FinishAsync{T}"/>
    public static async Task FinishAsync(IHost host, Task completion, CancellationToken cancellationToken)
    {
        await Task.WhenAny(completion, Stopping(host, cancellationToken));
        await host.StopAsync(CancellationToken.None);
        try
        {
            await completion;
        }
        catch (Exception)
        {
            // The caller reads each worker's end.
        }
    }

    /// <summary>Completes when the host is asked to stop (a worker ended) or the token fires: when a live view should stop drawing.</summary>
    public static Task Stopping(IHost host, CancellationToken cancellationToken)
    {
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stopping.Register(() => done.TrySetResult());
        cancellationToken.Register(() => done.TrySetResult());
        return done.Task;
    }

    /// <summary>Validates every options type registered with ValidateOnStart, as the host's start would, but before anything starts.</summary>
    public static void Validate(IHost host) => host.Services.GetService<IStartupValidator>()?.Validate();
}
