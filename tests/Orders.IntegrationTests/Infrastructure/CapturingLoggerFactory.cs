using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Orders.IntegrationTests.Infrastructure;

public sealed record LogEntry(LogLevel Level, string Category, string Message);

/// <summary>Keeps every log entry of the code under test, and signals each new one.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly SemaphoreSlim _written = new(0);

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>Waits until an entry matching <paramref name="match"/> has been written.</summary>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, TimeSpan timeout, Action? whileWaiting = null)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } entry)
            {
                return entry;
            }

            whileWaiting?.Invoke();
            try
            {
                await _written.WaitAsync(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching log entry within {timeout}; got:\n{string.Join('\n', _entries)}");
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            factory._entries.Enqueue(new LogEntry(logLevel, category, formatter(state, exception)));
            factory._written.Release();
        }
    }
}
