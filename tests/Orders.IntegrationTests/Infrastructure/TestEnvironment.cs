using System.Runtime.CompilerServices;

namespace Orders.IntegrationTests.Infrastructure;

internal static class TestEnvironment
{
    /// <summary>
    /// Many processors run at once here, in this process and in child processes: each serves its
    /// HTTP endpoint on a free port of its own instead of the default 8080 (tests that read the
    /// endpoint ask the processor for its address).
    /// </summary>
    [ModuleInitializer]
    internal static void FreeHttpPorts()
    {
        Environment.SetEnvironmentVariable("Processor__Http__Port", "0");
    }
}
