using System.Runtime.InteropServices;

namespace Orders.Cli.Hosting;

/// <summary>
/// SIGINT and SIGTERM for a verb: the first asks the verb to stop (<see cref="Token"/>: it finishes what
/// it has in hand, checkpoints, closes); a stop that outlasts <paramref name="limit"/> ends the run with
/// 130 (SIGINT) or 143 (SIGTERM) through <see cref="Forced"/>, after one line saying so, written just
/// before. System.CommandLine's own handling (ProcessTerminationTimeout) does the same without the line,
/// and blocks inside the signal handler while it waits, so a second handler beside it would not run in time.
/// </summary>
internal sealed class StopWatchdog : IDisposable
{
    /// <summary>How long before the limit the line is written, so that it is out before the process ends.</summary>
    internal static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    private readonly TextWriter _stderr;
    private readonly TimeSpan _limit;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _forced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _lock = new();
    private readonly List<ITimer> _timers = [];
    private bool _signalled;
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

    /// <summary>Completes with 130 or 143 when a stop outlasts the limit; never otherwise.</summary>
    public Task<int> Forced => _forced.Task;

    /// <summary>A signal came: the first starts the stop and its clock; later ones change nothing.</summary>
    internal void Signalled(string signal)
    {
        lock (_lock)
        {
            if (_ended || _signalled)
            {
                return;
            }

            _signalled = true;
            var exit = signal == "SIGINT" ? 130 : 143;
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
            if (_ended)
            {
                return;
            }

            _stderr.WriteLine($"orders: still stopping {_limit.TotalSeconds:0} s after {signal}: the process ends now, before its stop is done (exit {exit})");
            _stderr.Flush();
        }
    }
}
