using Confluent.SchemaRegistry;
using Microsoft.Extensions.Hosting;

namespace Orders.Cli.Hosting;

/// <summary>
/// One verb's run: its work, and whatever goes wrong turned into one line on stderr and an exit
/// code by <see cref="CliFailures"/>. The verb says what it has built so far (<see cref="Host"/>,
/// <see cref="Registry"/>), so that the line can name the right setting.
/// </summary>
internal sealed class VerbRun(TextWriter stderr)
{
    /// <summary>The verb's host: it names the HTTP endpoint that could not bind. Disposed by the run, after any failure is described.</summary>
    public IHost? Host { get; private set; }

    /// <summary>Takes the verb's host: it lives until the run has said how it ended.</summary>
    public IHost Own(IHost host) => Host = host;

    public SchemaRegistryConfig? Registry { get; set; }

    public static Task<int> RunAsync(TextWriter stderr, Func<VerbRun, Task<int>> work) => new VerbRun(stderr).RunAsync(work, CancellationToken.None);

    /// <summary>
    /// A service verb's run (consume, produce), which SIGINT and SIGTERM stop: stopped before it had
    /// started its work (checking the registry's credentials, waiting for a broker, resolving the
    /// topics), it exits 0 without a line, as when stopped before its host started, and not
    /// 1 with "cancelled".
    /// </summary>
    /// <param name="stop">The signal's token.</param>
    public static Task<int> RunAsync(TextWriter stderr, CancellationToken stop, Func<VerbRun, Task<int>> work) => new VerbRun(stderr).RunAsync(work, stop);

    /// <summary>Writes one line, <c>orders: ...</c>, on stderr.</summary>
    public async Task<int> FailAsync(int exit, string message)
    {
        await stderr.WriteLineAsync($"orders: {message.ReplaceLineEndings(" ")}");
        return exit;
    }

    private async Task<int> RunAsync(Func<VerbRun, Task<int>> work, CancellationToken stop)
    {
        try
        {
            return await work(this);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return OrdersCli.ExitOk;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var (exit, message) = CliFailures.Describe(e, Host, Registry);
            return await FailAsync(exit, message);
        }
        finally
        {
            Host?.Dispose();
        }
    }
}
