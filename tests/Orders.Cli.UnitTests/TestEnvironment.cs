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

    /// <summary>
    /// Sets a process-wide environment variable until disposed, then puts back what it held (the
    /// module's <c>Processor__Http__Port=0</c>, say). Tests that use it run alone (<see cref="EnvironmentCollection"/>).
    /// </summary>
    internal static IDisposable Variable(string name, string? value)
    {
        var before = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
        return new Restore(name, before);
    }

    private sealed class Restore(string name, string? before) : IDisposable
    {
        public void Dispose() => Environment.SetEnvironmentVariable(name, before);
    }
}
