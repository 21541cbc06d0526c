using System.Diagnostics;
using System.Text;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests.Faults;

/// <summary>An <c>orders consume</c> process the test can kill -9, stop with SIGTERM, and read the output of.</summary>
public sealed class ProcessorProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();

    public ProcessorProcess(string[] args, params (string Name, string Value)[] environment)
    {
        StartedAt = DateTime.UtcNow;
        _process = OrdersProcess.Start(["consume", .. args], environment);
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public DateTime StartedAt { get; }

    public string StandardOutput
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits until the process logs <paramref name="text"/> (e.g. its first assignment).</summary>
    public async Task<TimeSpan> WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!StandardError.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                Assert.Fail($"the processor exited ({_process.ExitCode}) before logging '{text}':\n{StandardError}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"the processor did not log '{text}' within {timeout}:\n{StandardError}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return DateTime.UtcNow - StartedAt;
    }

    /// <summary>kill -9: no checkpoint, no commit, no goodbye.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator scales down; waits for a clean exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        await OrdersProcess.SignalAsync(_process, "TERM");

        await WaitForExitAsync(timeout);
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            Assert.Fail($"the processor did not exit within {timeout}:\n{StandardError}");
        }

        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            builder.AppendLine(line);
        }
    }
}
