using System.Net;
using System.Net.Sockets;

namespace Orders.Cli.UnitTests;

/// <summary>Bad HTTP endpoint settings: one line naming the problem, exit code 2, nothing left running.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class MonitoringCliTests
{
    [Theory]
    [InlineData("consume", "--http-port", "70000")]
    [InlineData("consume", "--http-port", "-1")]
    [InlineData("consume", "--http-port", "eighty")]
    [InlineData("consume", "--live", "--json")]
    [InlineData("consume", "--http-host", "not an address", "--bootstrap-servers", "localhost:1")]
    [InlineData("consume", "--http-host", "::ffff:127.0.0.1", "--bootstrap-servers", "localhost:1")]
    [InlineData("demo", "--http-port", "65536")]
    [InlineData("produce", "--http-port", "-5")]
    [InlineData("produce", "--http-port", "0", "--http-host", "somewhere", "--bootstrap-servers", "localhost:1")]
    public async Task BadInput_OneLineError_Exit2(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orders: ", line, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Consume_HttpPortInUse_SaysSoAndHowToChooseAnother_Exit2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, _, stderr) = await RunAsync(["consume", "--http-port", port.ToString(), "--bootstrap-servers", "localhost:1"]);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Contains($"HTTP port {port} on 127.0.0.1 is in use", stderr, StringComparison.Ordinal);
        Assert.Contains("--http-port", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produce_HttpPortInUse_SaysSo_Exit2_BeforeProducing()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, stdout, stderr) = await RunAsync(["produce", "--http-port", port.ToString(), "--bootstrap-servers", "localhost:1", "--count", "1"]);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Contains($"HTTP port {port} on 127.0.0.1 is in use", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--no-http", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("consume", "Processor__Http__Enabled")]
    [InlineData("produce", "Producer__Http__Enabled")]
    public async Task HttpPortFlag_TurnsTheEndpointOn_WhereTheEnvironmentTurnedItOff(string verb, string variable)
    {
        // Flags win: the endpoint binds the port the flag names (here one in use, so the run ends at once
        // saying so); before, the flag was ignored without a word and nothing was served.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var _ = TestEnvironment.Variable(variable, "false");
        string[] args = [verb, "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bootstrap-servers", "localhost:1"];

        var (exit, _, stderr) = await RunAsync(verb == "produce" ? [.. args, "--count", "1"] : args).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Contains($"HTTP port {port} on 127.0.0.1 is in use", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Processor:Http:Port", "eighty")]
    [InlineData("Processor:Http:Enabled", "sometimes")]
    [InlineData("Processor:Http:Port", "99999")]
    public async Task Consume_BadHttpSettingInConfiguration_OneLineNamingTheKey_Exit2(string key, string value)
    {
        // Environment variables reach the same keys as appsettings.json: Processor__Http__Port.
        using var _ = TestEnvironment.Variable(key.Replace(":", "__", StringComparison.Ordinal), value);

        var (exit, _, stderr) = await RunAsync(["consume", "--bootstrap-servers", "localhost:1"]);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Contains(key, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"status":"Degraded","checks":{"kafka":{"status":"Degraded","description":"no broker"},"partitions":{"status":"Healthy","description":"6"}}}""", "Degraded (kafka: no broker)")]
    [InlineData("""{"status":"Unhealthy"}""", "Unhealthy")]
    [InlineData("""{"status":503,"checks":[]}""", null)]
    [InlineData("""{"status":"Degraded","checks":{"x":{"status":7,"description":"odd\u001b[2J"}}}""", "Degraded (x: odd\\u001b[2J)")]
    [InlineData("<html>503</html>", null)]
    [InlineData("[1,2]", null)]
    public void HealthFailureLine_NamesTheFailingChecks_AndIgnoresAnswersOfAnotherShape(string body, string? expected) =>
        Assert.Equal(expected, Orders.Cli.Commands.HealthCommand.Failing(body));

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>Tests that set process-wide environment variables run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "environment variables";
}
