using System.Diagnostics;

namespace Orders.Bench;

/// <summary>kcat, the C client's command line: where it is installed, the bench reports it as the limit of the Kafka client itself.</summary>
internal sealed class Kcat(string path)
{
    /// <summary>Where the output's first byte came and how many bytes followed, or the whole run's time for a producer.</summary>
    public sealed record Result(long OutputBytes, double SecondsFromFirstByte, double Seconds);

    public static Kcat? Find(BenchOptions options)
    {
        if (!options.UseKcat)
        {
            return null;
        }

        if (options.KcatPath is { } configured)
        {
            return File.Exists(configured) ? new Kcat(configured) : null;
        }

        var found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "kcat"))
            .FirstOrDefault(File.Exists);
        return found is null ? null : new Kcat(found);
    }

    /// <summary>Runs kcat to its end, counting the bytes it writes to stdout and timing them from the first.</summary>
    /// <exception cref="InvalidOperationException">kcat failed or did not end within the timeout.</exception>
    public async Task<Result> RunAsync(IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{path} did not start");
        var errors = process.StandardError.ReadToEndAsync(deadline.Token);
        var output = process.StandardOutput.BaseStream;
        var buffer = new byte[64 * 1024];
        long bytes = 0;
        long firstByteAt = 0;
        try
        {
            int read;
            while ((read = await output.ReadAsync(buffer, deadline.Token)) > 0)
            {
                if (bytes == 0)
                {
                    firstByteAt = Stopwatch.GetTimestamp();
                }

                bytes += read;
            }

            var ended = Stopwatch.GetTimestamp();
            await process.WaitForExitAsync(deadline.Token);
            var stderr = (await errors).Trim();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"kcat exited with {process.ExitCode}: {stderr}");
            }

            return new Result(bytes, bytes == 0 ? 0 : Stopwatch.GetElapsedTime(firstByteAt, ended).TotalSeconds, Stopwatch.GetElapsedTime(started, Stopwatch.GetTimestamp()).TotalSeconds);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            throw new InvalidOperationException($"kcat did not finish within {timeout.TotalSeconds:0} s");
        }
    }
}
