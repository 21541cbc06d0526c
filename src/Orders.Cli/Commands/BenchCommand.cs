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
        var count = CliOptions.Positive("--count", 400_000, 5_000_000, "Orders of the backlog each drain run reads (with --relay-overhead: orders per run).");
        var produceCount = CliOptions.Positive("--produce-count", 1_000_000, 10_000_000, "Orders each produce run publishes.");
        var repeats = CliOptions.Positive("--repeats", 5, 20, "Runs of each side (ceiling, pipeline, references), alternating.");
        var partitions = CliOptions.Positive("--partitions", 16, 256, "Partitions of the topics the bench creates.");
        var rate = CliOptions.Positive("--rate", 20_000, 1_000_000, "Orders per second of the latency runs.");
        var latencySeconds = CliOptions.Positive("--latency-seconds", 5, 600, "Length of each latency run.");
        var warmUp = CliOptions.Positive("--warm-up", 200_000, 1_000_000, "Orders of the unreported warm-up run of each side.");
        var noKcat = new Option<bool>("--no-kcat") { Description = "Leave out kcat (the C client's reference) even where it is installed." };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Use this cluster instead of starting a local stack (with --schema-registry)." };
        var registry = new Option<string?>("--schema-registry") { Description = "The registry of --bootstrap-servers." };
        var relayOverhead = new Option<bool>("--relay-overhead")
        {
            Description = "Instead: the ceiling alone through two local stacks in this process, one whose relays read Kafka's framing (the default) and one relaying plain bytes, to show what the protocol-aware relay costs.",
        };
        var json = ClientOptions.JsonOption();
        var command = new Command("bench", "Measure the pipeline (our publisher and processor) against the raw Kafka client's ceilings: drain a backlog, produce, latency at a fixed rate.")
        {
            count, produceCount, repeats, partitions, rate, latencySeconds, warmUp, noKcat, bootstrap, registry, relayOverhead, json,
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
                DrainCount = parseResult.GetValue(count),
                ProduceCount = parseResult.GetValue(produceCount),
                Repeats = parseResult.GetValue(repeats),
                Partitions = parseResult.GetValue(partitions),
                LatencyRate = parseResult.GetValue(rate),
                LatencyDuration = TimeSpan.FromSeconds(parseResult.GetValue(latencySeconds)),
                WarmUpCount = parseResult.GetValue(warmUp),
                UseKcat = !parseResult.GetValue(noKcat),
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
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"Medians of {options.Repeats} runs of each side, alternating; values of {report.ValueBytes} bytes, {report.Partitions} partitions."),
        };
        foreach (var measure in new[] { report.Drain, report.Produce, report.Latency })
        {
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{measure.Measure} ({measure.Description}; {measure.Orders:N0} orders)"));
            lines.Add("| side                 | role      | orders/s     | CPU µs/ord | alloc B/ord | p50 ms   | p99 ms   |");
            lines.Add("|----------------------|-----------|--------------|------------|-------------|----------|----------|");
            lines.AddRange(measure.Sides.Select(Row));
            lines.Add(Verdict(measure));
        }

        var r = report.Ratios;
        lines.Add("");
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"Pipeline, produce then drain: {Share(r.Throughput)} of the raw client; drain {Share(r.Drain)}, produce {Share(r.Produce)}; to kcat: drain {Share(r.DrainToKcat)}, produce {Share(r.ProduceToKcat)}."));
        lines.AddRange(report.BenchErrors);
        return string.Join(Environment.NewLine, lines);

        static string Row(SideResult s) => string.Create(
            CultureInfo.InvariantCulture,
            $"| {s.Side,-20} | {s.Role,-9} | {s.Throughput,12:N0} | {Num(s.CpuMicrosPerOrder, "F2"),10} | {Num(s.AllocatedBytesPerOrder, "N0"),11} | {Num(s.LatencyMs?.P50, "F2"),8} | {Num(s.LatencyMs?.P99, "F2"),8} |");
        static string Num(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";
        static string Share(double? ratio) => ratio?.ToString("P1", CultureInfo.InvariantCulture) ?? "n/a";
        static string Verdict(MeasureReport m)
        {
            var c = m.Comparison;
            if (c.BenchError)
            {
                return c.BenchErrorMessage!;
            }

            var extra = m.P99DifferenceMs is { } d ? string.Create(CultureInfo.InvariantCulture, $", p99 {d:+0.00;-0.00} ms") : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{c.Pipeline} / {c.Ceiling} (the ceiling): {Share(c.Ratio)}, CPU {Num(c.CpuRatio, "F2")}x, allocated {Num(c.AllocatedRatio, "F2")}x{extra}.");
        }
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
