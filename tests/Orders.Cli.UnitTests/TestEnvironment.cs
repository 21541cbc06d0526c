using System.Runtime.CompilerServices;

namespace Orders.Cli.UnitTests;

internal static class TestEnvironment
{
    /// <summary>
    /// CLI tests here start the processor's host in this process, several at once: each serves its
    /// HTTP endpoint on a free port of its own instead of the default 8080.
    /// </summary>
    [ModuleInitializer]
    internal static void FreeHttpPorts()
    {
        Environment.SetEnvironmentVariable("Processor__Http__Port", "0");
    }
}
