using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orders.Contracts;
using Orders.Hosting;
using Orders.Kafka;

namespace Orders.Producer.Hosting;

public static class ProducerHostingExtensions
{
    public const string Section = "Producer";

    /// <summary>
    /// Registers the order producer as a hosted service. It reads:
    /// <code>
    /// "Producer": { "Topic": "orders", "Count": 1000, "Rate": 50, "InvalidRatio": 0.02, "Seed": 42 },
    /// "Kafka": { "BootstrapServers": "localhost:9092" }   // any librdkafka property
    /// </code>
    /// <c>Producer:Topic</c> defaults to <c>Processor:Topic</c>, so one setting points a whole
    /// pipeline at another topic. The options are validated when the host starts; the caller
    /// registers the <see cref="ISchemaRegistryClient"/>.
    /// </summary>
    public static IHostApplicationBuilder AddOrderProducer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProducerOptions>()
            .BindConfiguration(Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                if (configuration[$"{Section}:Topic"] is null && configuration["Processor:Topic"] is { } topic)
                {
                    options.Topic = topic;
                }
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProducerOptions>, ProducerOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new OrderPublisher(
            KafkaSettings.Bind(sp.GetRequiredService<IConfiguration>().GetSection(KafkaSettings.Section), new ProducerConfig()),
            sp.GetRequiredService<ISchemaRegistryClient>(),
            sp.GetRequiredService<IOptions<ProducerOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OrderPublisher>>()));
        builder.Services.AddSingleton<ProducerWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProducerWorker>());
        return builder;
    }
}

/// <summary>Checks <see cref="ProducerOptions"/> at start: one clear line for a bad setting, whatever set it.</summary>
public sealed class ProducerOptionsValidator : IValidateOptions<ProducerOptions>
{
    /// <summary>The longest drain that leaves a stop 5 s of its limit for the rest (closing the client, the summary).</summary>
    public static readonly TimeSpan MaxDrainTimeout = StopLimit.AfterSignal - TimeSpan.FromSeconds(5);

    public ValidateOptionsResult Validate(string? name, ProducerOptions options)
    {
        var errors = new List<string>();
        if (Topics.Validate(options.Topic) is { } topicError)
        {
            errors.Add($"Producer:Topic: {topicError}");
        }

        Check(errors, options.Count is null or >= 0, $"Producer:Count must not be negative, not {options.Count}");
        Check(errors, options.Duration is null || options.Duration > TimeSpan.Zero, "Producer:Duration must be positive");
        Check(errors, options.Rate is null || (double.IsFinite(options.Rate.Value) && options.Rate > 0), $"Producer:Rate must be a positive number of orders per second, not {options.Rate}");
        Check(errors, options.InvalidRatio is >= 0 and <= 1, $"Producer:InvalidRatio must be between 0 and 1, not {options.InvalidRatio}");
        Check(errors, options.BrokerTimeout > TimeSpan.Zero, "Producer:BrokerTimeout must be positive");
        Check(errors, options.TopicWait > TimeSpan.Zero, "Producer:TopicWait must be positive");
        Check(errors, options.RegistryWait > TimeSpan.Zero, "Producer:RegistryWait must be positive");
        Check(errors, options.DrainTimeout > TimeSpan.Zero, "Producer:DrainTimeout must be positive");
        Check(
            errors,
            options.DrainTimeout <= MaxDrainTimeout,
            $"Producer:DrainTimeout ({options.DrainTimeout.TotalSeconds:0.###} s) must be at most {MaxDrainTimeout.TotalSeconds:0} s: the process ends {StopLimit.AfterSignal.TotalSeconds:0} s after a signal, and the summary comes after the drain");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, bool ok, string error)
    {
        if (!ok)
        {
            errors.Add(error);
        }
    }
}
