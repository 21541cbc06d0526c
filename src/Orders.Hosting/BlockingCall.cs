namespace Orders.Hosting;

/// <summary>
/// Runs a blocking client call (librdkafka's metadata request, a consumer's close, a synchronous
/// read) on a thread of its own, never on a thread-pool thread. Blocked pool threads starve
/// everything else in the process that is asynchronous: the local stack's relays and registry,
/// Kestrel, the HTTP client of the registry. With the CPU busy the pool adds no threads (it reads
/// saturation as "more threads would not help"), so a process whose pool threads wait on a broker
/// that only the pool can serve waits until the call times out. Measured in one process holding
/// the local stack, a producer and a processor on a loaded 2-core machine: the pool stayed at 3
/// threads for 10 s while two of them sat in GetMetadata, and the producer saw no broker.
/// </summary>
public static class BlockingCall
{
    public static Task<T> RunAsync<T>(Func<T> call, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(call, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    public static Task RunAsync(Action call, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(call, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
}
