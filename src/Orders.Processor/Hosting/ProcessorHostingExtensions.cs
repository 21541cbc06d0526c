using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orders.Kafka;
using Orders.Processor.Observability;
using Orders.Processor.Records;

namespace Orders.Processor.Hosting;

public static class ProcessorHostingExtensions
{
    /// <summary>
    /// Registers the order processor as a hosted service. It reads:
    /// <code>
    /// "Processor": { "Topic": "orders", "GroupId": "order-processor", "MaxAttempts": 3, "CheckpointInterval": "00:00:05" },
    /// "Kafka": { "BootstrapServers": "localhost:9092", "linger.ms": "5" }   // any librdkafka property
    /// </code>
    /// The options are validated when the host starts. The caller registers the
    /// <see cref="ISchemaRegistryClient"/> (built from the <c>SchemaRegistry</c> section).
    /// The processor's instruments (<see cref="ProcessorMetrics"/>) come from the host's <see cref="IMeterFactory"/>.
    /// </summary>
    public static IHostApplicationBuilder AddOrderProcessor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProcessorOptions>().BindConfiguration(ProcessorOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProcessorOptions>, ProcessorOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new OrderDecoder(sp.GetRequiredService<ISchemaRegistryClient>()));
        builder.Services.TryAddSingleton<IOrderHandler>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ProcessorOptions>>().Value;
            return new FailureInjectingHandler(options.FailRatio, new Random(options.Seed));
        });
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(sp => new ProcessorMetrics(
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<IOptions<ProcessorOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<IConfiguration>().GetSection(KafkaSettings.Section);
            return new OrderProcessor(
                KafkaSettings.Bind(kafka, new ConsumerConfig()),
                KafkaSettings.Bind(kafka, new ProducerConfig()),
                sp.GetRequiredService<IOptions<ProcessorOptions>>().Value,
                sp.GetRequiredService<OrderDecoder>(),
                sp.GetRequiredService<IOrderHandler>(),
                sp.GetRequiredService<ISchemaRegistryClient>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<OrderProcessor>>(),
                sp.GetRequiredService<ProcessorMetrics>());
        });
        builder.Services.AddSingleton<ProcessorWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProcessorWorker>());
        return builder;
    }
}
