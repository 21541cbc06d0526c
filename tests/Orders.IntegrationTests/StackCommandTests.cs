using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Orders.Cli;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary><c>orders stack</c> as a user runs it: a separate process on fixed ports, stopped with Ctrl+C.</summary>
public sealed class StackCommandTests
{
    [Fact]
    public async Task Stack_ServesKafkaAndRegistryOnTheChosenPorts_AndStopsCleanlyOnSigint()
    {
        var kafkaPort = OrdersProcess.FreePort();
        var registryPort = OrdersProcess.FreePort();
        using var process = OrdersProcess.Start(["stack", "--kafka-port", kafkaPort.ToString(), "--registry-port", registryPort.ToString(), "--partitions", "4"]);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var ready = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            if (e.Data.Contains("Press Ctrl+C", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => output.Enqueue("stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = $"localhost:{kafkaPort}" }).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            using var http = new HttpClient();
            var subjects = await http.GetStringAsync($"http://localhost:{registryPort}/subjects", TestContext.Current.CancellationToken);

            Assert.Equal(4, metadata.Topics.Single(t => t.Topic == "orders").Partitions.Count);
            Assert.Equal(4, metadata.Topics.Single(t => t.Topic == "orders_dlq").Partitions.Count);
            Assert.Equal(4, metadata.Topics.Single(t => t.Topic == "orders_stats").Partitions.Count);
            Assert.Equal($"localhost:{kafkaPort}", $"{metadata.Brokers.Single().Host}:{metadata.Brokers.Single().Port}");
            Assert.Equal("[]", subjects);
            Assert.Contains(output, line => line.Contains("newest ~5 MiB", StringComparison.Ordinal));
            Assert.Contains(output, line => line.Contains("memory only", StringComparison.Ordinal));
        }
        finally
        {
            SendSigint(process);
        }

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(15)), "orders stack did not stop after SIGINT:\n" + string.Join('\n', output));
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}:\n" + string.Join('\n', output));
    }

    [Fact]
    public async Task Stack_WithATopic_CreatesIt_ItsDeadLetterAndItsCheckpointTopic_WithTheSamePartitions()
    {
        await using var stack = await Orders.LocalStack.LocalStackHost.StartAsync(
            new Orders.LocalStack.LocalStackOptions { Topic = "shipments", Partitions = 5, KafkaPort = 0, RegistryPort = 0 },
            cancellationToken: TestContext.Current.CancellationToken);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.BootstrapServers }).Build();

        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.ToDictionary(t => t.Topic, t => t.Partitions.Count);

        Assert.Equal(new Dictionary<string, int> { ["shipments"] = 5, ["shipments_dlq"] = 5, ["shipments_stats"] = 5 }, topics);
    }

    [Theory]
    [InlineData("kafka", "--kafka-port")]
    [InlineData("registry", "--registry-port")]
    public async Task Stack_PortInUse_OneLineErrorNamingPortAndOption_Exit2(string which, string option)
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var busy = ((IPEndPoint)occupied.LocalEndpoint).Port;
        var other = OrdersProcess.FreePort();
        var (kafka, registry) = which == "kafka" ? (busy, other) : (other, busy);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(["stack", "--kafka-port", kafka.ToString(), "--registry-port", registry.ToString()], stdout, stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"port {busy}", line, StringComparison.Ordinal);
        Assert.Contains(option, line, StringComparison.Ordinal);
    }

    private static void SendSigint(Process process)
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-INT", process.Id.ToString()]);
            kill.WaitForExit();
        }
    }
}
