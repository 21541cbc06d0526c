using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orders.Cli.Settings;
using Orders.DeadLetters;
using Orders.Kafka;
using Orders.Monitoring;
using Orders.Processor;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Hosting;
using Orders.Producer;
using Orders.RegistryClient;
using Orders.SchemaRegistry;

namespace Orders.Cli.Hosting;

/// <summary>
/// The one table from what went wrong to the line the user reads and the exit code: bad input of
/// any kind is 2, a run that could not do its job is 1. Every verb ends through it, so no verb has
/// a catch ladder of its own and no stack trace reaches the user.
/// </summary>
internal static partial class CliFailures
{
    /// <param name="host">The verb's host, when it was built: it names the HTTP endpoint that could not bind.</param>
    /// <param name="registry">The registry settings, to say which to fix when it rejects the credentials.</param>
    public static (int Exit, string Message) Describe(Exception error, IHost? host = null, SchemaRegistryConfig? registry = null) => Unwrap(error) switch
    {
        SettingsException e => (OrdersCli.ExitUsage, e.Message),
        OptionsValidationException e => (OrdersCli.ExitUsage, e.Failures.First()),
        InvalidOperationException { InnerException: ArgumentException or FormatException or OverflowException } e when Binder(e.Message, TooLarge(e)) is { } bad => (OrdersCli.ExitUsage, bad),
        KafkaConfigurationException e => (OrdersCli.ExitUsage, e.Message),
        PortInUseException e => (OrdersCli.ExitUsage, $"port {e.Port} {e.Reason} ({e.Component}); choose another with {(e.Component == "kafka" ? "--kafka-port" : "--registry-port")}"),
        // Kestrel's bind failures: an IOException for a port in use, the socket's own error for the rest (a port below 1024
        // without the right, an address the system refuses).
        Exception e when e is IOException or System.Net.Sockets.SocketException && HttpEndpoint(host) is { } http => (OrdersCli.ExitUsage,
            $"HTTP port {http.Options.Port} on {http.Options.Host} {(e.InnerException is AddressInUseException ? "is in use" : $"cannot be used ({e.Message})")}: " +
            "choose another with --http-port (0 picks a free one) or --http-host" + (http.Section.StartsWith(ProcessorOptions.Section, StringComparison.Ordinal) ? ", or turn it off with --no-http" : "")),
        RegistryCredentialsException e => (OrdersCli.ExitFailure, (registry is null ? null : SchemaRegistryErrors.DescribeRejection(e, registry)) ?? e.Message),
        BrokerUnreachableException or TopicLayoutException or GroupProtocolException or DeadLetterWriteException or CheckpointWriteException or ProcessorGaveUpException or ProducerFailedException
            or DeadLetterTopicNotFoundException or TopicReadException => (OrdersCli.ExitFailure, Unwrap(error).Message),
        KafkaException e => (OrdersCli.ExitFailure, $"fatal Kafka error: {e.Error.Reason}"),
        OperationCanceledException => (OrdersCli.ExitFailure, "cancelled"),
        var e => (OrdersCli.ExitFailure, $"{e.GetType().Name}: {e.Message}"),
    };

    private static Exception Unwrap(Exception error) => error is AggregateException { InnerExceptions.Count: > 0 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : error;

    /// <summary>Whether the binder's failure is a number beyond what its type holds (the converter wraps the overflow in an ArgumentException).</summary>
    private static bool TooLarge(Exception error) => error.InnerException is OverflowException || error.InnerException?.InnerException is OverflowException;

    /// <summary>The configuration binder's "Failed to convert configuration value 'x' at 'Processor:MaxAttempts' to type 'System.Int32'." in the user's words.</summary>
    private static string? Binder(string message, bool tooLarge = false)
    {
        var match = BinderMessage().Match(message);
        if (!match.Success)
        {
            return null;
        }

        var type = match.Groups["type"].Value;
        var inner = NullableType().Match(type) is { Success: true } nullable ? nullable.Groups[1].Value : type;
        return tooLarge
            ? $"{match.Groups["key"].Value}: '{match.Groups["value"].Value}' is out of range ({TypeWords.For(inner)} from {TypeWords.Range(inner)})"
            : $"{match.Groups["key"].Value}: '{match.Groups["value"].Value}' is not {TypeWords.For(inner)}";
    }

    private static (string Section, HttpEndpointOptions Options)? HttpEndpoint(IHost? host)
    {
        if (host?.Services.GetService<HttpEndpoint>() is null)
        {
            return null;
        }

        var options = host.Services.GetService<IOptions<HttpEndpointOptions>>()?.Value;
        var section = host.Services.GetService<ProcessorWorker>() is not null ? $"{ProcessorOptions.Section}:Http" : "Producer:Http";
        return options is null ? null : (section, options);
    }

    [GeneratedRegex(@"value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();

    [GeneratedRegex(@"^System\.Nullable`1\[\[?(System\.[A-Za-z0-9]+)")]
    private static partial Regex NullableType();
}

/// <summary>What a setting's type is, in words ("a whole number"), for errors about values that do not convert.</summary>
internal static class TypeWords
{
    public static string For(string clrType) => clrType switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" or "Int32" or "Int64" => "a whole number",
        "System.Double" or "System.Single" or "System.Decimal" or "Double" => "a number",
        "System.Boolean" or "Boolean" => "true or false",
        "System.TimeSpan" or "TimeSpan" => "a duration (hh:mm:ss, such as 00:00:05, or d.hh:mm:ss)",
        "System.String" or "String" => "text",
        _ => $"a valid {clrType.Split('.')[^1]}",
    };

    /// <summary>The values a numeric type holds, for a number beyond them.</summary>
    public static string Range(string clrType) => clrType switch
    {
        "System.Int32" or "Int32" => "-2,147,483,648 to 2,147,483,647",
        "System.Int64" or "Int64" => "-9,223,372,036,854,775,808 to 9,223,372,036,854,775,807",
        "System.Int16" => "-32,768 to 32,767",
        _ => "what it holds",
    };
}
