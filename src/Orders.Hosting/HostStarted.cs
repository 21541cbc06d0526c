using Microsoft.Extensions.Hosting;

namespace Orders.Hosting;

/// <summary>Waits for a host to have started every hosted service, so that a worker connects nowhere before the rest of its host (an HTTP port, say) is known to work.</summary>
public static class HostStarted
{
    /// <exception cref="OperationCanceledException">The host stopped before it had started.</exception>
    public static async Task WaitAsync(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        if (lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }
}
