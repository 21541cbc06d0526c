using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Monitoring;
using Orders.Processor;
using Orders.Processor.DeadLetters;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Cli.Commands;

/// <summary>
/// The processor as a Generic Host: the verbs' configuration (defaults, appsettings.json,
/// environment) plus flags mapped onto the same keys (<c>Processor:GroupId</c>), so one options
/// type is the truth however a setting was given.
/// </summary>
internal static class ProcessorHost
{
    public static IHost Build(AppSettings settings, IReadOnlyDictionary<string, string?> flags, ISchemaRegistryClient registry, ILoggerFactory loggers)
    {
        var configuration = new ConfigurationManager();
        Configure(configuration, settings, flags);
        if (bool.TryParse(configuration[HttpEnabledKey], out var enabled) && !enabled)
        {
            // A value that is not a boolean leaves it on; the endpoint's options validation then names the key.
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Configuration = configuration });
            AddProcessor(builder, registry, loggers);
            return builder.Build();
        }

        // The same host, plus /metrics, /health/* and the dashboard on the processor's HTTP port.
        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "orders" });
        Configure(web.Configuration, settings, flags);
        AddProcessor(web, registry, loggers);
        web.AddProcessorMonitoring();
        var app = web.Build();
        app.MapProcessorMonitoring();
        return app;
    }

    // Flags as a source of their own, not chained: a chained configuration reads an empty value as
    // missing, and "--group ''" must reach the options validator as empty.
    private static void Configure(IConfigurationBuilder configuration, AppSettings settings, IReadOnlyDictionary<string, string?> flags) =>
        configuration.AddConfiguration(settings.Configuration).AddInMemoryCollection(flags);

    private const string HttpEnabledKey = "Processor:Http:Enabled";

    private static readonly HttpOptions Http = new(ProcessorOptions.Section, onByDefault: true);

    private static void AddProcessor(IHostApplicationBuilder builder, ISchemaRegistryClient registry, ILoggerFactory loggers)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton(loggers));
        builder.Services.AddSingleton(registry);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.AddOrderProcessor();
    }

    /// <summary>The dashboard's address once the host has started, or null when it serves no HTTP (or stopped first).</summary>
    public static async Task<Uri?> HttpAddressAsync(IHost host, Task stopped)
    {
        if (host.Services.GetService<HttpEndpoint>() is not { } endpoint)
        {
            return null;
        }

        await Task.WhenAny(endpoint.Started, stopped);
        return endpoint.Started.IsCompletedSuccessfully ? endpoint.Started.Result : null;
    }

    /// <summary>Starts the host, waits until the processor ends or <paramref name="cancellationToken"/> fires, stops it.</summary>
    /// <returns>The summary, or the exit code and one-line error.</returns>
    /// <param name="registry">The registry settings, to say which to fix when it rejects the credentials.</param>
    public static async Task<(ProcessorSummary? Summary, int Exit, string? Error)> RunAsync(IHost host, SchemaRegistryConfig registry, CancellationToken cancellationToken)
    {
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (Http.DescribeStartFailure(e, host) is { } failure)
        {
            return (null, OrdersCli.ExitUsage, failure);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, OrdersCli.ExitOk, null);
        }
        catch (OperationCanceledException)
        {
            // The processor failed at once and stopped the host while the rest of it (the HTTP
            // endpoint) was still starting: its completion says why, below.
        }

        var worker = host.Services.GetRequiredService<ProcessorWorker>();
        try
        {
            await worker.Completion.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: stopping the host stops the processor, which checkpoints and closes.
        }
        catch (Exception)
        {
            // Reported below from the completion itself.
        }

        await host.StopAsync(CancellationToken.None);
        try
        {
            return (await worker.Completion, OrdersCli.ExitOk, null);
        }
        catch (KafkaConfigurationException e)
        {
            return (null, OrdersCli.ExitUsage, e.Message);
        }
        catch (TopicLayoutException e)
        {
            return (null, OrdersCli.ExitFailure, e.Message);
        }
        catch (DeadLetterWriteException e)
        {
            return (null, OrdersCli.ExitFailure, e.Message);
        }
        catch (ProcessorGaveUpException e)
        {
            return (null, OrdersCli.ExitFailure, e.Message);
        }
        catch (RegistryCredentialsException e)
        {
            return (null, OrdersCli.ExitFailure, SchemaRegistryErrors.DescribeRejection(e, registry) ?? e.Message);
        }
        catch (KafkaException e)
        {
            return (null, OrdersCli.ExitFailure, $"fatal Kafka error: {e.Error.Reason}");
        }
        catch (InvalidOperationException e)
        {
            return (null, OrdersCli.ExitFailure, e.Message);
        }
    }

    /// <summary>Whole seconds or a fraction, in the form configuration binds to a <see cref="TimeSpan"/>.</summary>
    public static string? Duration(TimeSpan? value) => value?.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
