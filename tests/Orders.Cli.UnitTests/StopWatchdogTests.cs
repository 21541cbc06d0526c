using Microsoft.Extensions.Time.Testing;
using Orders.Cli.Hosting;
using Orders.Hosting;

namespace Orders.Cli.UnitTests;

/// <summary>The first signal asks the verb to stop; a stop that outlasts the limit, or a second signal during it, ends the run, after one line saying so.</summary>
public sealed class StopWatchdogTests
{
    [Fact]
    public async Task AStopStillRunningAtTheLimit_IsEnded_AfterOneLine()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        using var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGTERM");
        watchdog.Signalled("SIGINT");
        Assert.True(watchdog.Token.IsCancellationRequested);
        time.Advance(StopLimit.AfterSignal - StopWatchdog.Margin - TimeSpan.FromMilliseconds(1));
        Assert.Equal("", stderr.ToString());
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("orders: still stopping 30 s after SIGTERM: the process ends now, before its stop is done (exit 143)", stderr.ToString().Trim());
        Assert.False(watchdog.Forced.IsCompleted);
        time.Advance(StopWatchdog.Margin);
        Assert.Equal(143, await watchdog.Forced);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ASecondSignalDuringTheStop_EndsTheRunAtOnce_AfterOneLine()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        using var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGTERM");
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(watchdog.Forced.IsCompleted);
        watchdog.Signalled("SIGINT");

        Assert.Equal(130, await watchdog.Forced);
        Assert.Equal("orders: SIGINT again while stopping: the process ends now, before its stop is done (exit 130)", stderr.ToString().Trim());
        // Nothing more: neither a third signal nor the limit's line.
        watchdog.Signalled("SIGINT");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ASignalWithinASecondOfTheFirst_IsTheSameRequest_AsAForwardedCopyIs()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        using var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGTERM");
        time.Advance(StopWatchdog.SameStop - TimeSpan.FromMilliseconds(1));
        watchdog.Signalled("SIGTERM");

        Assert.True(watchdog.Token.IsCancellationRequested);
        Assert.False(watchdog.Forced.IsCompleted);
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public void ARunThatEndsInTime_WritesNothing_AndIsNotEnded()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGINT");
        time.Advance(TimeSpan.FromSeconds(5));
        watchdog.Dispose();
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("", stderr.ToString());
        Assert.False(watchdog.Forced.IsCompleted);
    }

    [Fact]
    public void NoSignal_NoStop()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StopWatchdog(new StringWriter(), StopLimit.AfterSignal, time, watchSignals: false);

        time.Advance(TimeSpan.FromHours(1));

        Assert.False(watchdog.Token.IsCancellationRequested);
        Assert.False(watchdog.Forced.IsCompleted);
    }
}
