using Microsoft.Extensions.Logging;

namespace Orders.Hosting;

/// <summary>
/// A logger factory whose loggers scrub known secret values (see <see cref="SecretRedactor"/>)
/// from every message, structured value and exception before the real providers see them. It
/// catches what our own code would never log but a library might: a debug dump, an exception
/// message quoting a URL with credentials.
/// </summary>
public sealed class RedactingLoggerFactory(ILoggerFactory inner, SecretRedactor redactor) : ILoggerFactory
{
    /// <summary>The factory itself when there is nothing to scrub, so the common case costs nothing.</summary>
    public static ILoggerFactory Wrap(ILoggerFactory inner, SecretRedactor redactor) =>
        redactor.IsEmpty ? inner : new RedactingLoggerFactory(inner, redactor);

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), redactor);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner, SecretRedactor redactor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            // The exception's text joins the message, redacted: providers print exception.ToString() as it is.
            var message = redactor.Redact(formatter(state, exception));
            if (exception is not null)
            {
                message += Environment.NewLine + redactor.Redact(exception.ToString());
            }

            var values = state as IReadOnlyList<KeyValuePair<string, object?>>;
            var redacted = new RedactedState(message, values?.Select(v => new KeyValuePair<string, object?>(
                v.Key, v.Value is string or Uri or Exception ? redactor.Redact(v.Value.ToString()!) : v.Value)).ToArray() ?? []);
            inner.Log(logLevel, eventId, redacted, null, static (s, _) => s.Message);
        }
    }

    /// <summary>Structured values stay available to providers that write them (JSON console), redacted too.</summary>
    private sealed class RedactedState(string message, KeyValuePair<string, object?>[] values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => values.GetEnumerator();

        public override string ToString() => Message;
    }
}
