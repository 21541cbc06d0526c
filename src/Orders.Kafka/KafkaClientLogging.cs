using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>
/// Routes librdkafka's own log lines, and its error callbacks, into the host's logging instead
/// of raw stderr: identical warnings and errors are written once and then counted (see
/// <see cref="KafkaLogRoute"/>), so an unreachable broker is one line a minute, not twenty a second.
/// </summary>
public static class KafkaClientLogging
{
    public static ProducerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ProducerBuilder<TKey, TValue> builder, ILogger logger, TimeProvider? time = null)
    {
        var route = new KafkaLogRoute(logger, time ?? TimeProvider.System);
        return builder.SetLogHandler((_, message) => route.Log(message));
    }

    public static ConsumerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder, ILogger logger, TimeProvider? time = null)
    {
        var route = new KafkaLogRoute(logger, time ?? TimeProvider.System);
        return builder.SetLogHandler((_, message) => route.Log(message));
    }

    public static AdminClientBuilder LogTo(this AdminClientBuilder builder, ILogger logger, TimeProvider? time = null)
    {
        var route = new KafkaLogRoute(logger, time ?? TimeProvider.System);
        return builder.SetLogHandler((_, message) => route.Log(message));
    }

    /// <summary>
    /// Log lines through a route the caller owns: one route for a client's log lines and errors
    /// counts their repeats together, and <see cref="KafkaLogRoute.Flush"/> on close writes the
    /// counts still pending instead of losing them with the process.
    /// </summary>
    public static ProducerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ProducerBuilder<TKey, TValue> builder, KafkaLogRoute route) =>
        builder.SetLogHandler((_, message) => route.Log(message));

    /// <inheritdoc cref="LogTo{TKey, TValue}(ProducerBuilder{TKey, TValue}, KafkaLogRoute)"/>
    public static ConsumerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder, KafkaLogRoute route) =>
        builder.SetLogHandler((_, message) => route.Log(message));

    /// <inheritdoc cref="LogTo{TKey, TValue}(ProducerBuilder{TKey, TValue}, KafkaLogRoute)"/>
    public static AdminClientBuilder LogTo(this AdminClientBuilder builder, KafkaLogRoute route) =>
        builder.SetLogHandler((_, message) => route.Log(message));

    /// <summary>
    /// Sets the error handler: every error is logged through a <see cref="KafkaLogRoute"/> (repeats
    /// counted, fatal errors always written), then handed to <paramref name="onError"/>, e.g. to
    /// stop on <see cref="Error.IsFatal"/> or to note that a broker was reached.
    /// A builder takes one error handler: use this instead of <c>SetErrorHandler</c>, not with it.
    /// </summary>
    public static ProducerBuilder<TKey, TValue> LogErrorsTo<TKey, TValue>(
        this ProducerBuilder<TKey, TValue> builder, ILogger logger, Action<IProducer<TKey, TValue>, Error>? onError = null, TimeProvider? time = null) =>
        builder.LogErrorsTo(new KafkaLogRoute(logger, time ?? TimeProvider.System), onError);

    /// <inheritdoc cref="LogErrorsTo{TKey, TValue}(ProducerBuilder{TKey, TValue}, ILogger, Action{IProducer{TKey, TValue}, Error}?, TimeProvider?)"/>
    public static ConsumerBuilder<TKey, TValue> LogErrorsTo<TKey, TValue>(
        this ConsumerBuilder<TKey, TValue> builder, ILogger logger, Action<IConsumer<TKey, TValue>, Error>? onError = null, TimeProvider? time = null) =>
        builder.LogErrorsTo(new KafkaLogRoute(logger, time ?? TimeProvider.System), onError);

    /// <summary>The error handler, through a route the caller owns (see <see cref="LogTo{TKey, TValue}(ProducerBuilder{TKey, TValue}, KafkaLogRoute)"/>).</summary>
    public static ProducerBuilder<TKey, TValue> LogErrorsTo<TKey, TValue>(
        this ProducerBuilder<TKey, TValue> builder, KafkaLogRoute route, Action<IProducer<TKey, TValue>, Error>? onError = null) =>
        builder.SetErrorHandler((client, error) =>
        {
            route.Error(error);
            onError?.Invoke(client, error);
        });

    /// <inheritdoc cref="LogErrorsTo{TKey, TValue}(ProducerBuilder{TKey, TValue}, KafkaLogRoute, Action{IProducer{TKey, TValue}, Error}?)"/>
    public static ConsumerBuilder<TKey, TValue> LogErrorsTo<TKey, TValue>(
        this ConsumerBuilder<TKey, TValue> builder, KafkaLogRoute route, Action<IConsumer<TKey, TValue>, Error>? onError = null) =>
        builder.SetErrorHandler((client, error) =>
        {
            route.Error(error);
            onError?.Invoke(client, error);
        });

    /// <summary>The error handler of an admin client, through a route (see the producer's <c>LogErrorsTo</c>).</summary>
    public static AdminClientBuilder LogErrorsTo(this AdminClientBuilder builder, KafkaLogRoute route, Action<IAdminClient, Error>? onError = null) =>
        builder.SetErrorHandler((client, error) =>
        {
            route.Error(error);
            onError?.Invoke(client, error);
        });

    public static LogLevel ToLogLevel(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}

/// <summary>
/// One client's librdkafka log lines and errors, into an <see cref="ILogger"/>. Lines and errors
/// that repeat (same facility or code, same text up to timings) are written once, then reported
/// as "repeated N times in the last 60 s" once per window while they go on; debug lines pass
/// untouched, since whoever turned on <c>debug</c> wants every one. Secrets in
/// librdkafka's configuration dump are masked even if librdkafka itself did not.
/// </summary>
public sealed partial class KafkaLogRoute : IDisposable
{
    /// <summary>How long repeats are counted before the count is written.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(60);

    private readonly ILogger _logger;
    private readonly RepeatSuppressor<Entry> _repeats;
    private bool _holding;
    private string? _lastHeld;

    public KafkaLogRoute(ILogger logger, TimeProvider time, TimeSpan? window = null)
    {
        _logger = logger;
        _repeats = new RepeatSuppressor<Entry>(time, window ?? DefaultWindow, WriteRepeated);
    }

    /// <summary>A librdkafka log line (the client's log handler).</summary>
    public void Log(LogMessage message)
    {
        var level = KafkaClientLogging.ToLogLevel(message.Level);
        if (!_logger.IsEnabled(level))
        {
            return;
        }

        var text = Sanitize(message.Facility, message.Message);
        if (Volatile.Read(ref _holding) && message.Facility == "FAIL" && level > LogLevel.Debug)
        {
            // A failed connection: the error callback reports it too, held or passed by its code.
            LibrdkafkaLog(_logger, LogLevel.Debug, message.Name, message.Facility, text);
            return;
        }

        // Information too: librdkafka logs a refused reconnect at info ("Disconnected ... in state
        // APIVERSION_QUERY"), and while a closing consumer retries a broker that is down it logged
        // that line 100,000 times in 30 s (measured).
        if (level >= LogLevel.Information
            && !_repeats.ShouldLog("log|" + message.Facility + "|" + RepeatSuppressor.KeyOf(text), new Entry(level, message.Name, message.Facility, text, null)))
        {
            return;
        }

        LibrdkafkaLog(_logger, level, message.Name, message.Facility, text);
    }

    /// <summary>An error reported by the client (the client's error handler). Fatal errors are always written.</summary>
    public void Error(Error error)
    {
        var level = error.IsFatal ? LogLevel.Critical : LogLevel.Error;
        var reason = Redaction.UrlsIn(error.Reason ?? "");
        if (Volatile.Read(ref _holding) && IsNoBroker(error))
        {
            _lastHeld = reason;
            KafkaError(_logger, LogLevel.Debug, error.Code, reason);
            return;
        }
        if (!error.IsFatal
            && !_repeats.ShouldLog("error|" + error.Code + "|" + RepeatSuppressor.KeyOf(reason), new Entry(level, "", "", reason, error.Code)))
        {
            return;
        }

        KafkaError(_logger, level, error.Code, reason);
    }

    /// <summary>The newest report held by <see cref="HoldNoBrokerErrors"/>: why no broker answered, in librdkafka's words.</summary>
    public string? LastHeldError => Volatile.Read(ref _lastHeld);

    /// <summary>
    /// While a start-up wait says in one line of its own that no broker answers (<see cref="BrokerWait"/>),
    /// the client's reports of the same (connection refused, a name that does not resolve, all brokers
    /// down: several a second) go to debug, and the newest is kept for the wait's last line. Other
    /// errors (authentication, TLS) still pass: they say what the wait cannot. Call it before the
    /// client is built (it connects at once); the wait ends the hold once a broker answered, and a
    /// wait that gave up leaves it on, so the closing client's last reports do not follow its line.
    /// </summary>
    public void HoldNoBrokerErrors() => Volatile.Write(ref _holding, true);

    /// <summary>Ends <see cref="HoldNoBrokerErrors"/>: a broker answered, and what fails from now on is news.</summary>
    public void ReleaseNoBrokerErrors() => Volatile.Write(ref _holding, false);

    private static bool IsNoBroker(Error error) =>
        !error.IsFatal && error.Code is ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Resolve or ErrorCode.Local_TimedOut;

    /// <summary>Writes the counts still pending (call when the client closes).</summary>
    public void Flush() => _repeats.Flush();

    public void Dispose() => _repeats.Dispose();

    private void WriteRepeated(Entry first, int count, TimeSpan over)
    {
        var seconds = Math.Round(over.TotalSeconds);
        if (first.Code is { } code)
        {
            KafkaErrorRepeated(_logger, first.Level, code, first.Text, count, seconds);
        }
        else
        {
            LibrdkafkaRepeated(_logger, first.Level, first.Client, first.Facility, first.Text, count, seconds);
        }
    }

    private static string Sanitize(string facility, string text)
    {
        // librdkafka prints its configuration with debug=conf ("  sasl.password = [redacted]").
        // It masks the properties it knows to be sensitive; this masks any other our rules call secret.
        if (facility == "CONF" && ConfLine().Match(text) is { Success: true } line
            && line.Groups["value"].Value != "[redacted]" && Redaction.IsSecretSetting(line.Groups["name"].Value))
        {
            return text[..line.Groups["value"].Index] + Redaction.Mask;
        }

        return Redaction.UrlsIn(text);
    }

    [GeneratedRegex(@"^\s*(?<name>[A-Za-z0-9_.]+) = (?<value>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ConfLine();

    [LoggerMessage(EventId = 100, Message = "librdkafka {Client} {Facility}: {Message}")]
    private static partial void LibrdkafkaLog(ILogger logger, LogLevel level, string client, string facility, string message);

    [LoggerMessage(EventId = 101, Message = "librdkafka {Client} {Facility}: {Message} (repeated {Count} times in the last {Seconds} s)")]
    private static partial void LibrdkafkaRepeated(ILogger logger, LogLevel level, string client, string facility, string message, int count, double seconds);

    [LoggerMessage(EventId = 102, Message = "Kafka error {Code}: {Reason}")]
    private static partial void KafkaError(ILogger logger, LogLevel level, ErrorCode code, string reason);

    [LoggerMessage(EventId = 103, Message = "Kafka error {Code}: {Reason} (repeated {Count} times in the last {Seconds} s)")]
    private static partial void KafkaErrorRepeated(ILogger logger, LogLevel level, ErrorCode code, string reason, int count, double seconds);

    private sealed record Entry(LogLevel Level, string Client, string Facility, string Text, ErrorCode? Code);
}
