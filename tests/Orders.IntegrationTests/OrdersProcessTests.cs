using System.Diagnostics;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>The test suite's own hygiene: an <c>orders</c> process a test started does not outlive the test.</summary>
public sealed class OrdersProcessTests
{
    [Fact]
    public async Task AProcessStillRunning_IsKilledWhenItsTestDisposesIt()
    {
        int id;
        using (var process = OrdersProcess.Start(["stack", "--kafka-port", OrdersProcess.FreePort().ToString(), "--registry-port", OrdersProcess.FreePort().ToString()]))
        {
            id = process.Id;
            var ready = new TaskCompletionSource();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("Press Ctrl+C", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.False(process.HasExited);
        }

        // Gone, not merely detached from: a process with this id either does not exist or is another one.
        Assert.True(IsGone(id), $"orders stack (pid {id}) still runs after its Process was disposed");
    }

    private static bool IsGone(int id)
    {
        try
        {
            using var found = Process.GetProcessById(id);
            return found.HasExited || !found.ProcessName.Contains("dotnet", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
