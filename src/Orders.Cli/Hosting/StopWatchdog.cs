using System.Runtime.InteropServices;

namespace Orders.Cli.Hosting;

/// <summary>
/// SIGINT and SIGTERM for a verb: the first asks the verb to stop (<see cref="Token"/>: it finishes what
/// it has in hand, checkpoints, closes); a stop that outlasts <paramref name="limit"/> ends the run with
/// 130 (SIGINT) or 143 (SIGTERM) through <see cref="Forced"/>, after one line saying so, written just
/// before; so does a second signal during the stop (Ctrl+C again), at once, unless it comes within
/// <see cref="SameStop"/> of the first: a signal sent to a process group reaches the process twice
/// when a parent forwards it too (<c>dotnet run</c> does, 7 ms apart measured), and that is one
/// request. System.CommandLine's own handling (ProcessTerminationTimeout) ends a stop at its limit
/// without the line, and blocks inside the signal handler while it waits, so a second handler beside
/// it would not run in time.
/// </summary>
internal sealed class StopWatchdog : IDisposable
{
    /// <summary>How long before the limit the line is written, so that it is out before the process ends.</summary>
    internal static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    /// <summary>How soon after the first a signal is taken for the same request (a forwarded copy), not for "stop now".</summary>
    internal static readonly TimeSpan SameStop = TimeSpan.FromSeconds(1);

    private readonly TextWriter _stderr;
    private readonly TimeSpan _limit;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _forced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _lock = new();
    private readonly List<ITimer> _timers = [];
    private long? _firstSignalAt;
    private bool _ended;

    /// <param name="watchSignals">False in tests, which call <see cref="Signalled"/> themselves.</param>
    public StopWatchdog(TextWriter stderr, TimeSpan limit, TimeProvider time, bool watchSignals = true)
    {
        _stderr = stderr;
        _limit = limit;
        _time = time;
        if (watchSignals)
        {
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    // Not the runtime's default (the process ending at once): the verb stops by itself.
                    context.Cancel = true;
                    Signalled(context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM");
                }));
            }
        }
    }

    /// <summary>Fires at the first signal.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Completes with 130 or 143 when a stop outlasts the limit or a second signal ends it; never otherwise.</summary>
    public Task<int> Forced => _forced.Task;

    /// <summary>A signal came: the first starts the stop and its clock; one during the stop, after <see cref="SameStop"/>, ends the run.</summary>
    internal void Signalled(string signal)
    {
        var exit = signal == "SIGINT" ? 130 : 143;
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            if (_firstSignalAt is { } first)
            {
                if (_time.GetElapsedTime(first) >= SameStop && !_forced.Task.IsCompleted)
                {
                    _stderr.WriteLine($"orders: {signal} again while stopping: the process ends now, before its stop is done (exit {exit})");
                    _stderr.Flush();
                    _forced.TrySetResult(exit);
                }

                return;
            }

            _firstSignalAt = _time.GetTimestamp();
            _timers.Add(_time.CreateTimer(_ => Overdue(signal, exit), null, _limit - Margin, Timeout.InfiniteTimeSpan));
            _timers.Add(_time.CreateTimer(_ => _forced.TrySetResult(exit), null, _limit, Timeout.InfiniteTimeSpan));
        }

        try
        {
            // The verbs' cancellation callbacks run here, on the signal's thread, as under System.CommandLine's handling.
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended meanwhile.
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _ended = true;
            foreach (var timer in _timers)
            {
                timer.Dispose();
            }
        }

        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void Overdue(string signal, int exit)
    {
        lock (_lock)
        {
            if (_ended || _forced.Task.IsCompleted)
            {
                return;
            }

            _stderr.WriteLine($"orders: still stopping {_limit.TotalSeconds:0} s after {signal}: the process ends now, before its stop is done (exit {exit})");
            _stderr.Flush();
        }
    }
}
