using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Orders.Bench;
using Orders.Cli.Settings;

namespace Orders.Cli.Commands;

/// <summary>
/// <c>orders bench</c>: the pipeline against the raw client's ceiling, in one run. By default it
/// starts a local stack of its own in a separate process (so the broker's CPU is not counted as
/// the clients'), runs, and stops it.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var count = CliOptions.Positive("--count", 200_000, 5_000_000, "Orders per throughput run.");
        var repeats = CliOptions.Positive("--repeats", 3, 20, "Runs of each side (ceiling, pipeline), alternating.");
        var partitions = CliOptions.Positive("--partitions", 12, 256, "Partitions of the topics the bench creates.");
        var rate = CliOptions.Positive("--rate", 20_000, 1_000_000, "Orders per second of the latency runs.");
        var latencySeconds = CliOptions.Positive("--latency-seconds", 5, 600, "Length of each latency run.");
        var warmUp = CliOptions.Positive("--warm-up", 20_000, 1_000_000, "Orders of the unreported warm-up run of each side.");
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Use this cluster instead of starting a local stack (with --schema-registry)." };
        var registry = new Option<string?>("--schema-registry") { Description = "The registry of --bootstrap-servers." };
        var relayOverhead = new Option<bool>("--relay-overhead")
        {
            Description = "Instead: the ceiling alone through two local stacks in this process, one whose relays read Kafka's framing (the default) and one relaying plain bytes, to show what the protocol-aware relay costs.",
        };
        var json = ClientOptions.JsonOption();
        var command = new Command("bench", "Measure the pipeline (our producer and processor) against the raw Kafka client's ceiling, side by side.")
        {
            count, repeats, partitions, rate, latencySeconds, warmUp, bootstrap, registry, relayOverhead, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var external = parseResult.GetValue(bootstrap);
            if ((external is null) != (parseResult.GetValue(registry) is null))
            {
                await stderr.WriteLineAsync("orders: --bootstrap-servers and --schema-registry go together");
                return OrdersCli.ExitUsage;
            }

            if (parseResult.GetValue(relayOverhead))
            {
                if (external is not null)
                {
                    await stderr.WriteLineAsync("orders: --relay-overhead measures the local stack's relays; it takes no --bootstrap-servers");
                    return OrdersCli.ExitUsage;
                }

                return await RelayOverheadAsync(
                    parseResult.GetValue(count), parseResult.GetValue(repeats), parseResult.GetValue(partitions), parseResult.GetValue(warmUp), parseResult.GetValue(json), stdout, stderr, cancellationToken);
            }

            using var stack = external is null ? await LocalStackProcess.StartAsync(parseResult.GetValue(partitions), stderr, cancellationToken) : null;
            if (external is null && stack is null)
            {
                return OrdersCli.ExitFailure;
            }

            var options = new BenchOptions
            {
                BootstrapServers = external ?? stack!.BootstrapServers,
                SchemaRegistryUrl = parseResult.GetValue(registry) ?? stack!.RegistryUrl,
                Count = parseResult.GetValue(count),
                Repeats = parseResult.GetValue(repeats),
                Partitions = parseResult.GetValue(partitions),
                LatencyRate = parseResult.GetValue(rate),
                LatencyDuration = TimeSpan.FromSeconds(parseResult.GetValue(latencySeconds)),
                WarmUpCount = parseResult.GetValue(warmUp),
            };

            BenchReport report;
            try
            {
                report = await new PipelineBench(options, line => stderr.WriteLine(line)).RunAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await stderr.WriteLineAsync("orders: bench cancelled");
                return OrdersCli.ExitFailure;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or Confluent.Kafka.KafkaException)
            {
                await stderr.WriteLineAsync($"orders: bench failed: {e.Message}");
                return OrdersCli.ExitFailure;
            }

            await stdout.WriteLineAsync(parseResult.GetValue(json) ? JsonSerializer.Serialize(report, Json) : Text(report, options));
            return OrdersCli.ExitOk;
        });
        return command;
    }

    private static async Task<int> RelayOverheadAsync(long count, int repeats, int partitions, long warmUp, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        RelayOverheadReport report;
        try
        {
            report = await RelayOverheadBench.RunAsync(count, repeats, partitions, warmUp, line => stderr.WriteLine(line), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("orders: bench cancelled");
            return OrdersCli.ExitFailure;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or Confluent.Kafka.KafkaException)
        {
            await stderr.WriteLineAsync($"orders: bench failed: {e.Message}");
            return OrdersCli.ExitFailure;
        }

        await stdout.WriteLineAsync(json
            ? JsonSerializer.Serialize(new { relayOverhead = report }, Json)
            : string.Create(
                CultureInfo.InvariantCulture,
                $"Ceiling through the relays, medians of {repeats} runs each of {count:N0} orders: reading Kafka's framing {report.Inspecting:N0} orders/s, plain bytes {report.Plain:N0} orders/s; ratio {report.Ratio:F3}."));
        return OrdersCli.ExitOk;
    }

    private static string Text(BenchReport report, BenchOptions options)
    {
        static string Row(string name, Measurement m) => string.Create(
            CultureInfo.InvariantCulture,
            $"| {name,-8} | {m.Throughput,12:N0} | {m.CpuMicrosPerOrder,10:F2} | {m.AllocatedBytesPerOrder,11:N0} | {m.LatencyMs.P50,8:F2} | {m.LatencyMs.P99,8:F2} | {m.LatencyMs.P999,8:F2} |");
        return string.Join(Environment.NewLine,
            $"Medians of {options.Repeats} runs each, {options.Count:N0} orders per throughput run; latency at {options.LatencyRate:N0} orders/s for {options.LatencyDuration.TotalSeconds:0} s; values of {report.ValueBytes} bytes.",
            "| side     | orders/s     | CPU µs/ord | alloc B/ord | p50 ms   | p99 ms   | p99.9 ms |",
            "|----------|--------------|------------|-------------|----------|----------|----------|",
            Row("ceiling", report.Ceiling),
            Row("pipeline", report.Pipeline),
            string.Create(CultureInfo.InvariantCulture,
                $"Pipeline / ceiling: throughput {report.Ratios.Throughput:P1}, CPU {report.Ratios.Cpu:F2}x, allocated {report.Ratios.Allocated:F2}x, p99 {report.Ratios.P99:F2}x ({report.P99DifferenceMs:+0.00;-0.00} ms)."));
    }

    /// <summary><c>orders stack</c> in a child process on free ports.</summary>
    private sealed class LocalStackProcess : IDisposable
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
}
