using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orders.Decoding;
using Orders.Kafka;
using Orders.Processor.Checkpoints;
using Orders.Processor.Loop;
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
    /// <see cref="ISchemaRegistryClient"/> (built from the <c>SchemaRegistry</c> section), and may
    /// register its own <see cref="IOrderHandler"/> (the default simulates a downstream, <c>Processor:FailRatio</c>)
    /// and an <see cref="IRecordObserver"/>. What it is doing is on <see cref="ProcessorStatus"/>; its
    /// instruments (<see cref="ProcessorMetrics"/>) come from the host's <see cref="IMeterFactory"/>.
    /// </summary>
    public static IHostApplicationBuilder AddOrderProcessor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProcessorOptions>().BindConfiguration(ProcessorOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProcessorOptions>, ProcessorOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ProcessorOptions>>().Value);
        builder.Services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<IConfiguration>().GetSection(KafkaSettings.Section);
            var groupId = sp.GetRequiredService<ProcessorOptions>().GroupId;
            return new ProcessorClients(
                ProcessorClientConfig.Consumer(KafkaSettings.Bind(kafka, new ConsumerConfig()), groupId),
                ProcessorClientConfig.Producer(KafkaSettings.Bind(kafka, new ProducerConfig())));
        });
        builder.Services.AddSingleton(sp => new ProcessorStatus(
            sp.GetRequiredService<ProcessorOptions>().Topic,
            sp.GetRequiredService<ProcessorClients>().Consumer.IsolationLevel != IsolationLevel.ReadUncommitted,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new OrderDecoder(sp.GetRequiredService<ISchemaRegistryClient>()));
        builder.Services.TryAddSingleton<IOrderHandler>(sp =>
        {
            var options = sp.GetRequiredService<ProcessorOptions>();
            LatencyRange.TryParse(options.Handler.Latency, out var latency, out _);
            return new SimulatedDownstream(options.FailRatio, latency, new Random(options.Seed), sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(sp => new ProcessorMetrics(
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<ProcessorOptions>(),
            sp.GetRequiredService<ProcessorStatus>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new ProcessorServices(
            sp.GetRequiredService<ProcessorOptions>(),
            sp.GetRequiredService<OrderDecoder>(),
            sp.GetRequiredService<IOrderHandler>(),
            new CheckpointSerde(sp.GetRequiredService<ISchemaRegistryClient>()),
            sp.GetRequiredService<ProcessorStatus>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<ProcessorMetrics>(),
            sp.GetService<IRecordObserver>()));
        builder.Services.AddSingleton<ProcessorWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProcessorWorker>());
        return builder;
    }
}
