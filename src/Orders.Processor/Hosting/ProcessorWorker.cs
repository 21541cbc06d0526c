using Microsoft.Extensions.Hosting;

namespace Orders.Processor.Hosting;

/// <summary>
/// Runs the <see cref="OrderProcessor"/> for the host: on a thread of its own (its consume loop
/// blocks in librdkafka), until the host stops it, or until the processor ends by itself (idle,
/// or a fatal error), which stops the host. <see cref="Completion"/> gives the summary or the error.
/// </summary>
public sealed class ProcessorWorker(OrderProcessor processor, IHostApplicationLifetime lifetime) : BackgroundService
{
    private readonly TaskCompletionSource<ProcessorSummary> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OrderProcessor Processor => processor;

    public Task<ProcessorSummary> Completion => _completion.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(
            async () =>
            {
                try
                {
                    _completion.TrySetResult(await processor.RunAsync(stoppingToken));
                }
                catch (Exception e)
                {
                    _completion.TrySetException(e);
                }
                finally
                {
                    lifetime.StopApplication();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap();
}
