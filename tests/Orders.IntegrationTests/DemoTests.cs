using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

public sealed class DemoTests
{
    [Fact]
    public async Task Demo_RunsStackProducerAndProcessor_AndReportsBoth()
    {
        var summary = await OrdersCommand.RunJsonAsync(
            ["demo", "--duration", "6", "--rate", "100", "--kafka-port", OrdersProcess.FreePort().ToString(), "--registry-port", OrdersProcess.FreePort().ToString()]);

        var produced = summary.GetProperty("producer").GetProperty("produced").GetInt64();
        var processor = summary.GetProperty("processor");
        var handled = processor.GetProperty("processed").GetInt64() + processor.GetProperty("deadLettered").GetProperty("total").GetInt64();
        Assert.True(produced > 100, $"produced only {produced}");
        Assert.True(processor.GetProperty("processed").GetInt64() > 0);
        Assert.InRange(handled, 1, produced);
        // The generator writes EUR, USD and GBP (3:2:1): each has its own mean, and there is no mean across them.
        Assert.All(processor.GetProperty("currencies").EnumerateObject(), c => Assert.True(c.Value.GetProperty("price").GetProperty("mean").GetDouble() > 0, c.Name));
        Assert.True(processor.GetProperty("currencies").TryGetProperty("EUR", out _));
        Assert.False(processor.TryGetProperty("average", out _));
    }

    [Fact]
    public async Task Demo_OnTheTopicOfTheProcessorsSettings_ItsStackCreatesThatTopic()
    {
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["demo", "--duration", "4", "--rate", "50", "--json", "--no-http", "--kafka-port", OrdersProcess.FreePort().ToString(), "--registry-port", OrdersProcess.FreePort().ToString()],
            TimeSpan.FromSeconds(90),
            ("Processor__Topic", "demo-orders"));

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var summary = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.True(summary.GetProperty("producer").GetProperty("produced").GetInt64() > 0, stdout);
        Assert.True(summary.GetProperty("processor").GetProperty("processed").GetInt64() > 0, stdout);
    }

    [Theory]
    [InlineData("--kafka-port")]
    [InlineData("--http-port")]
    public async Task Demo_WithAPortInUse_SaysSoInOneLine_NoStackTrace_Exit2(string option)
    {
        // Without --json the demo logs through its live view's loggers, which printed the host's start failure with its stack trace first.
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var busy = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] ports = option == "--kafka-port"
            ? ["--kafka-port", busy, "--registry-port", OrdersProcess.FreePort().ToString(), "--no-http"]
            : ["--kafka-port", OrdersProcess.FreePort().ToString(), "--registry-port", OrdersProcess.FreePort().ToString(), "--http-port", busy];

        var (exit, _, stderr) = await OrdersProcess.RunAsync(["demo", "--duration", "3", .. ports], TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"port {busy}", line, StringComparison.Ordinal);
        Assert.Contains(option, line, StringComparison.Ordinal);
    }
}
