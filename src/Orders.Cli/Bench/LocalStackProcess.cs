using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Orders.Cli.Bench;

/// <summary><c>orders stack</c> in a child process on free ports.</summary>
internal sealed class LocalStackProcess : IDisposable
{
    private readonly Process _process;

    private LocalStackProcess(Process process, int kafkaPort, int registryPort)
    {
        _process = process;
        BootstrapServers = $"localhost:{kafkaPort}";
        RegistryUrl = $"http://localhost:{registryPort}";
    }

    public string BootstrapServers { get; }

    public string RegistryUrl { get; }

    public static async Task<LocalStackProcess?> StartAsync(int partitions, TextWriter stderr, CancellationToken cancellationToken)
    {
        var (kafkaPort, registryPort) = (FreePort(), FreePort());
        // The orders executable itself, or `dotnet orders.dll` (run through dotnet, or hosted by a test runner).
        var processPath = Environment.ProcessPath!;
        var standalone = Path.GetFileNameWithoutExtension(processPath) == "orders";
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
            ?? (Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet");
        var info = new ProcessStartInfo(standalone ? processPath : host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!standalone)
        {
            info.ArgumentList.Add(typeof(OrdersCli).Assembly.Location);
        }

        foreach (var arg in new[] { "stack", "--kafka-port", kafkaPort.ToString(CultureInfo.InvariantCulture), "--registry-port", registryPort.ToString(CultureInfo.InvariantCulture), "--partitions", partitions.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("Local stack is up", StringComparison.Ordinal))
            {
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                await stderr.WriteLineAsync($"Local stack started in process {process.Id}: Kafka localhost:{kafkaPort}, registry localhost:{registryPort}");
                return new LocalStackProcess(process, kafkaPort, registryPort);
            }
        }

        await stderr.WriteLineAsync($"orders: the local stack did not start: {(await errors).Trim()}");
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
