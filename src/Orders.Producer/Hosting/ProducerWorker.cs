using Microsoft.Extensions.Hosting;
using Orders.Hosting;
using Orders.Kafka;

namespace Orders.Producer.Hosting;

/// <summary>
/// Runs the <see cref="OrderPublisher"/> for the host, on a thread of its own (its loop blocks in
/// librdkafka when the queue is full), until the host stops it or it ends by itself (its count or
/// duration reached, or a failure), which stops the host. <see cref="Completion"/> gives the
/// summary or the error; <see cref="Publisher"/> its progress meanwhile. A stop of the host stops it
/// before its HTTP endpoint (<see cref="FirstToStopService"/>), which answers while it flushes.
/// </summary>
public sealed class ProducerWorker(OrderPublisher publisher, IHostApplicationLifetime lifetime) : FirstToStopService
{
    private readonly TaskCompletionSource<ProducerSummary> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OrderPublisher Publisher => publisher;

    public Task<ProducerSummary> Completion => _completion.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(
            async () =>
            {
                try
                {
                    // Nothing connects before the whole host is up: a port that cannot be bound stops it first.
                    await HostStarted.WaitAsync(lifetime, stoppingToken);
                    _completion.TrySetResult(await publisher.RunAsync(stoppingToken));
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
