using System.Runtime.InteropServices;

namespace Orders.Cli.Hosting;

/// <summary>
/// The last word of a stop that outlasts <see cref="Orders.Hosting.StopLimit.AfterSignal"/>: the CLI then ends
/// the process (exit 130 after SIGINT, 143 after SIGTERM), and without this the log would end on whatever
/// the stop was doing, with no line saying that it did not finish. Watches the signals beside the CLI's own
/// handling, which it leaves as it is.
/// </summary>
internal sealed class StopWatchdog : IDisposable
{
    /// <summary>How long before the limit the line is written, so that it is out before the process ends.</summary>
    internal static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    private readonly TextWriter _stderr;
    private readonly TimeSpan _limit;
    private readonly TimeProvider _time;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private bool _ended;

    public StopWatchdog(TextWriter stderr, TimeSpan limit, TimeProvider time, bool watchSignals = true)
    {
        _stderr = stderr;
        _limit = limit;
        _time = time;
        if (watchSignals)
        {
            foreach (var (signal, name) in new[] { (PosixSignal.SIGINT, "SIGINT"), (PosixSignal.SIGTERM, "SIGTERM") })
            {
                // Cancel is left false: the CLI's own handler decides what the signal does.
                _registrations.Add(PosixSignalRegistration.Create(signal, _ => Signalled(name)));
            }
        }
    }

    /// <summary>A stop began: unless the run ends first, the line is written just before the limit.</summary>
    internal void Signalled(string signal)
    {
        lock (_lock)
        {
            if (_ended || _timer is not null)
            {
                return;
            }

            _timer = _time.CreateTimer(_ => Overdue(signal), null, _limit - Margin, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _ended = true;
            _timer?.Dispose();
        }

        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void Overdue(string signal)
    {
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            _stderr.WriteLine($"orders: still stopping {_limit.TotalSeconds:0} s after {signal}: the process ends now, before its stop is done (exit {(signal == "SIGINT" ? 130 : 143)})");
            _stderr.Flush();
        }
    }
}
