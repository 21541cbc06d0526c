using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Orders.Hosting;

namespace Orders.Monitoring.Tracing;

/// <summary>
/// What the OTLP exporter says only to its event source (a collector refused, answered an error, or could not be
/// reached: the spans are dropped), as warnings in the process's log, each kind once per window with a count of
/// its repeats. Without it a collector that is down or misaddressed lost every span without a word.
/// </summary>
internal sealed partial class ExportFailureLog : EventListener
{
    /// <summary>The exporter's event source (OpenTelemetryProtocolExporterEventSource).</summary>
    internal const string SourceName = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    // EventListener's constructor calls OnEventSourceCreated (and may deliver events) before these are assigned.
    private readonly ILogger _logger;
    private readonly RepeatSuppressor<string> _repeats;

    public ExportFailureLog(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _repeats = new RepeatSuppressor<string>(time, Window, (message, count, over) => LogRepeated(_logger, count, over.TotalSeconds, message));
    }

    public override void Dispose()
    {
        base.Dispose();
        _repeats?.Dispose();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == SourceName)
        {
            EnableEvents(eventSource, EventLevel.Warning);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // Events can come while the constructor runs (a source enabled from the base constructor): nothing to log with yet.
        if (_repeats is null || eventData.Level > EventLevel.Warning || eventData.EventSource.Name != SourceName)
        {
            return;
        }

        var message = Format(eventData);
        if (_repeats.ShouldLog(RepeatSuppressor.KeyOf(message), message))
        {
            LogFailure(_logger, message);
        }
    }

    internal static string Format(EventWrittenEventArgs eventData)
    {
        var payload = eventData.Payload?.ToArray() ?? [];
        string text;
        try
        {
            text = eventData.Message is { Length: > 0 } format
                ? string.Format(CultureInfo.InvariantCulture, format, payload)
                : $"{eventData.EventName}: {string.Join(", ", payload)}";
        }
        catch (FormatException)
        {
            // A message whose placeholders its payload does not fill: said as it came, never thrown into the exporter's thread.
            text = $"{eventData.EventName}: {eventData.Message} ({string.Join(", ", payload)})";
        }

        // One line: exception texts carry their stack traces on lines of their own.
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    [LoggerMessage(1, LogLevel.Warning, "Traces not exported, the spans are dropped: {Message}")]
    private static partial void LogFailure(ILogger logger, string message);

    [LoggerMessage(2, LogLevel.Warning, "Traces not exported, repeated {Count} times in the last {Seconds:0} s: {Message}")]
    private static partial void LogRepeated(ILogger logger, int count, double seconds, string message);
}
