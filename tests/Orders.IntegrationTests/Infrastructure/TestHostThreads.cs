using System.Runtime.CompilerServices;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>
/// A floor under the test host's thread pool. This one process holds the local stack (its relays
/// and registry answer on pool threads), runs the CLI's verbs in-process, and its helpers (the
/// oracle, the test clients) read Kafka synchronously from async tests, on pool threads. The
/// project's own code never blocks a pool thread on Kafka (<see cref="Orders.Hosting.BlockingCall"/>),
/// but these helpers do, and with the CPU busy the pool adds no thread: measured on a loaded
/// 2-core machine, it stayed at 3 threads for 10 s while two of them waited on a broker whose relay
/// needed a third. Tests then failed on timing (no broker within 10 s, an idle processor that
/// never saw the records produced for it), never on what they check.
/// </summary>
internal static class TestHostThreads
{
    private const int MinimumWorkers = 32;

    [ModuleInitializer]
    internal static void RaisePoolFloor()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, MinimumWorkers), completionPorts);
    }
}
