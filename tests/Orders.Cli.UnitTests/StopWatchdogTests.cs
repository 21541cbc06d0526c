using Microsoft.Extensions.Time.Testing;
using Orders.Cli.Hosting;
using Orders.Hosting;

namespace Orders.Cli.UnitTests;

/// <summary>A stop that outlasts the limit ends the process: one line says so first.</summary>
public sealed class StopWatchdogTests
{
    [Fact]
    public void AStopStillRunningNearTheLimit_WritesOneLine_JustBeforeTheProcessEnds()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        using var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGTERM");
        watchdog.Signalled("SIGINT");
        time.Advance(StopLimit.AfterSignal - StopWatchdog.Margin - TimeSpan.FromMilliseconds(1));
        Assert.Equal("", stderr.ToString());
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("orders: still stopping 30 s after SIGTERM: the process ends now, before its stop is done (exit 143)", stderr.ToString().Trim());
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ARunThatEndsInTime_WritesNothing()
    {
        var time = new FakeTimeProvider();
        var stderr = new StringWriter();
        var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, time, watchSignals: false);

        watchdog.Signalled("SIGINT");
        time.Advance(TimeSpan.FromSeconds(5));
        watchdog.Dispose();
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("", stderr.ToString());
    }
}
