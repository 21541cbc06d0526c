using System.Diagnostics;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// <c>orders consume</c>, <c>orders produce</c> and <c>orders stats</c> at an address where nothing answers, run as a new
/// user runs them (a process of its own, everything it prints counted): within 5 s one line saying
/// what it waits for and where, then, after one bounded wait, one line and exit 1. No librdkafka flood.
/// </summary>
public sealed class NoBrokerTests
{
    private const string Nobody = "127.0.0.1:1";

    [Theory]
    [InlineData("consume")]
    [InlineData("produce")]
    [InlineData("stats")]
    public async Task NothingAtTheAddress_SaysItWaitsThere_ThenGivesUpInOneLine(string verb)
    {
        // consume serves its dashboard on 8080 by default: a free port instead, so that runs side by side do not collide.
        string[] args = verb == "consume" ? [verb, "--bootstrap-servers", Nobody, "--http-port", "0"] : [verb, "--bootstrap-servers", Nobody];
        var clock = Stopwatch.StartNew();
        using var process = OrdersProcess.Start(args);
        var lines = new List<(TimeSpan At, string Text)>();
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                lock (lines)
                {
                    lines.Add((clock.Elapsed, e.Data));
                }
            }
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            limit.CancelAfter(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
        }

        // The exit event comes after the last line is read.
        process.WaitForExit();
        var ended = clock.Elapsed;
        var all = string.Join('\n', lines.Select(l => $"{l.At.TotalSeconds:0.0}s {l.Text}"));
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}:\n{all}");
        Assert.True(lines.Count <= 3, $"{lines.Count} lines:\n{all}");
        Assert.True(ended < TimeSpan.FromSeconds(45), $"ended after {ended.TotalSeconds:0.0} s:\n{all}");
        var waiting = lines.First(l => l.Text.Contains(Nobody, StringComparison.Ordinal));
        Assert.True(waiting.At < TimeSpan.FromSeconds(5) && waiting.Text.Contains("Waiting for a Kafka broker", StringComparison.Ordinal), $"no line naming {Nobody} within 5 s:\n{all}");
        Assert.StartsWith($"orders: no Kafka broker at {Nobody} answered within", lines[^1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Text.Contains("librdkafka", StringComparison.Ordinal) || l.Text.Contains("Kafka error", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("consume", "INT")]
    [InlineData("consume", "TERM")]
    [InlineData("produce", "TERM")]
    public async Task StoppedWhileWaitingForABroker_ExitsZero_WithoutAnErrorLine(string verb, string signal)
    {
        string[] args = verb == "consume" ? [verb, "--bootstrap-servers", Nobody, "--http-port", "0"] : [verb, "--bootstrap-servers", Nobody];
        using var process = OrdersProcess.Start(args);
        var lines = new List<string>();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                lock (lines)
                {
                    lines.Add(e.Data);
                }

                if (e.Data.Contains("Waiting for a Kafka broker", StringComparison.Ordinal))
                {
                    waiting.TrySetResult();
                }
            }
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        await OrdersProcess.SignalAsync(process, signal);

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), $"orders {verb} did not stop after SIG{signal}");
        process.WaitForExit();
        var all = string.Join('\n', lines);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}:\n{all}");
        Assert.DoesNotContain(lines, l => l.StartsWith("orders:", StringComparison.Ordinal));
    }
}
