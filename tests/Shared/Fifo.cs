namespace Orders.Tests.Shared;

/// <summary>A named pipe (FIFO) that nothing writes to, made with mkfifo: opening it for reading blocks.</summary>
internal static class Fifo
{
    public static async Task<string> MakeAsync(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(mkfifo.ExitCode == 0, $"mkfifo {path} exited {mkfifo.ExitCode}");
        return path;
    }
}
