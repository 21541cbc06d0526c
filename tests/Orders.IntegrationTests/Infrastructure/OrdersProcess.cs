using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>The <c>orders</c> executable as a separate process, and free ports to give it.</summary>
internal static class OrdersProcess
{
    // A process started with SIGINT ignored (a background job of a non-interactive shell, as some CI
    // launchers start their steps) passes that on, and the .NET runtime keeps an inherited ignore:
    // the tests that stop `orders` with SIGINT would fail for how the suite was launched. coreutils'
    // env (8.31 and later) starts it with SIGINT's default action instead; where env lacks the option
    // (macOS), `orders` is started directly.
    private static readonly Lazy<bool> EnvRestoresSigint = new(() =>
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"]) { UseShellExecute = false, RedirectStandardError = true })!;
            probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static Process Start(string[] args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(EnvRestoresSigint.Value ? "env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (EnvRestoresSigint.Value)
        {
            // env replaces itself with dotnet: the process (its id, its signals) is the same one.
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orders.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new OwnedProcess { StartInfo = info };
        process.Start();
        return process;
    }

    /// <summary>Sends <paramref name="signal"/> (<c>INT</c>, <c>TERM</c>) to the process, as a terminal or an orchestrator does, and waits until it is sent.</summary>
    public static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Runs <c>orders</c> to the end and returns its exit code and everything it printed; killed after <paramref name="timeout"/>.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string[] args, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        using var process = Start(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"orders {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Killed with its children when disposed, if still running: a test that fails before its process
    /// ends (one waiting for a SIGINT that never arrives, say) does not leave it running beside the
    /// rest of the suite. Seen: an `orders produce --rate 200` went on for minutes after its test failed.
    /// </summary>
    private sealed class OwnedProcess : Process
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    if (!HasExited)
                    {
                        Kill(entireProcessTree: true);
                        WaitForExit(TimeSpan.FromSeconds(10));
                    }
                }
                catch (InvalidOperationException)
                {
                    // Never started, or gone meanwhile: nothing to stop.
                }
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A loopback port free right now (another process could still take it before it is used).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
