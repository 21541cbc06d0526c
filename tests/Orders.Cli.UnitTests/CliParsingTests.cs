using System.Text.RegularExpressions;

namespace Orders.Cli.UnitTests;

/// <summary>Bad input on the command line: one line on stderr naming the problem, exit code 2, nothing started.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class CliParsingTests
{
    [Theory]
    [InlineData("stack", "--brokers", "0")]
    [InlineData("stack", "--partitions", "-3")]
    [InlineData("stack", "--kafka-port", "70000")]
    [InlineData("stack", "--kafka-port", "nine")]
    [InlineData("stack", "--kafka-port", "65535", "--brokers", "2")]
    [InlineData("stack", "--no-such-flag")]
    [InlineData("stack", "--topic", "")]
    [InlineData("stack", "--topic", "orders/eu")]
    [InlineData("produce", "--topic", "with space")]
    [InlineData("produce", "--no-such-flag")]
    [InlineData("produce", "--count", "-5")]
    [InlineData("produce", "--count", "many")]
    [InlineData("produce", "--rate", "0")]
    [InlineData("produce", "--rate", "-1")]
    [InlineData("produce", "--duration", "-2")]
    [InlineData("produce", "--duration", "soon")]
    [InlineData("produce", "--invalid-ratio", "1.5")]
    [InlineData("produce", "--schema-registry", "not a url")]
    [InlineData("produce", "--schema-registry", "ftp://localhost:8081")]
    [InlineData("consume", "--max-attempts", "0")]
    [InlineData("consume", "--until-idle", "0")]
    [InlineData("consume", "--fail-ratio", "-0.1")]
    [InlineData("consume", "--group", "")]
    [InlineData("consume", "--topic", "")]
    [InlineData("consume", "--retry-delay-ms", "0")]
    [InlineData("demo", "--rate", "fast")]
    [InlineData("demo", "--kafka-port", "0")]
    [InlineData("produce", "--rate", "0,5")]
    [InlineData("consume", "--fail-ratio", "0,05")]
    [InlineData("demo", "--invalid-ratio", "1e")]
    [InlineData("consume", "--ordering", "foo")]
    [InlineData("consume", "--handler-latency", "99999999999999999999s")]
    [InlineData("demo", "--handler-latency", "1ms-99999999999999999999us")]
    [InlineData("health", "--timeout", "1e9")]
    [InlineData("health", "--timeout", "0.0000001")]
    [InlineData("stats", "--watch", "1e12")]
    [InlineData("bench", "--bootstrap-servers", "notahostport", "--schema-registry", "http://localhost:8081")]
    [InlineData("bench", "--bootstrap-servers", "localhost:9092", "--schema-registry", "notaurl")]
    [InlineData("produce", "--http-host", "127.0.0.1", "--count", "1")]
    [InlineData("nonsense")]
    public async Task BadInput_OneLineError_Exit2(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(args, stdout, stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orders: ", line, StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public async Task Stack_DataDirThatIsAFile_OneLineError_Exit2()
    {
        var file = Path.GetTempFileName();
        var stderr = new StringWriter();
        try
        {
            // Nothing listens before the data directory is checked, so the ports do not matter.
            var exit = await OrdersCli.RunAsync(["stack", "--data-dir", file], new StringWriter(), stderr);

            Assert.Equal(OrdersCli.ExitUsage, exit);
            var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("--data-dir", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("produce", "Kafka__linger.ms", "soon")]
    [InlineData("consume", "Kafka__no.such.property", "1")]
    public async Task BadKafkaSetting_InTheEnvironment_OneLineError_Exit2(string verb, string variable, string value)
    {
        var line = await OneLineExit2With(variable, value, verb, "--bootstrap-servers", "127.0.0.1:1");

        // The line names the setting as the user wrote it (librdkafka knows linger.ms as queue.buffering.max.ms).
        Assert.StartsWith($"orders: {variable.Replace("__", ":", StringComparison.Ordinal)}: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("KEY")]
    [InlineData("Partition")]
    [InlineData("unordered")]
    public void Ordering_IsTakenInAnyCase_AsItsSettingIs(string value) =>
        Assert.Empty(OrdersCli.BuildRoot(TextWriter.Null, TextWriter.Null).Parse(["consume", "--ordering", value]).Errors);

    [Theory]
    [InlineData("frob")]
    [InlineData("dlq", "frob")]
    public async Task AnUnknownVerb_IsNamed(params string[] args)
    {
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(args, new StringWriter(), stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Equal("orders: Unrecognized command or argument 'frob'. (see 'orders --help')", stderr.ToString().Trim());
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("produce")]
    [InlineData("consume")]
    [InlineData("stack")]
    [InlineData("stats")]
    [InlineData("bench")]
    [InlineData("dlq", "list")]
    [InlineData("dlq", "replay")]
    public async Task Help_NeverShowsTwoDefaultsThatDisagree(params string[] verb)
    {
        var stdout = new StringWriter();
        await OrdersCli.RunAsync([.. verb, "--help"], stdout, new StringWriter());

        // A description's own "(default X)" and System.CommandLine's "[default: Y]" on one option's line.
        var disagreeing = stdout.ToString().Split('\n')
            .Select(line => (Line: line, Said: Regex.Match(line, @"\(default:? ([^;),]+)[;),]"), Shown: Regex.Match(line, @"\[default: ([^\]]+)\]")))
            .Where(l => l.Said.Success && l.Shown.Success && l.Said.Groups[1].Value.Trim() != l.Shown.Groups[1].Value.Trim())
            .Select(l => l.Line.Trim())
            .ToList();

        Assert.True(disagreeing.Count == 0, string.Join("\n", disagreeing));
        Assert.Contains("--", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_HelpShowsTheRatiosItRunsWith()
    {
        var stdout = new StringWriter();
        await OrdersCli.RunAsync(["demo", "--help"], stdout, new StringWriter());

        Assert.Matches(@"--invalid-ratio <invalid-ratio>\s+Share of invalid orders\. \[default: 0\.02\]", stdout.ToString());
        Assert.Matches(@"--fail-ratio <fail-ratio>\s+Share of handler calls that fail transiently\. \[default: 0\.05\]", stdout.ToString());
    }

    [Fact]
    public async Task AProducerHttpSwitchThatIsNotABoolean_OneLineError_Exit2() =>
        Assert.Equal(
            "orders: Producer:Http:Enabled: 'maybe' is not true or false",
            await OneLineExit2With("Producer__Http__Enabled", "maybe", "produce", "--count", "1", "--bootstrap-servers", "127.0.0.1:1"));

    [Fact]
    public async Task AWholeNumberTooLargeForItsSetting_IsSaidToBeOutOfRange_NotToBeNoWholeNumber() =>
        Assert.Equal(
            "orders: Processor:MaxInFlight: '99999999999' is out of range (a whole number from -2,147,483,648 to 2,147,483,647)",
            await OneLineExit2With("Processor__MaxInFlight", "99999999999", "consume", "--bootstrap-servers", "127.0.0.1:1"));

    [Theory]
    [InlineData("99999999999999999999", "orders: --count: '99999999999999999999' is out of range (a whole number from -9,223,372,036,854,775,808 to 9,223,372,036,854,775,807) (see 'orders --help')")]
    [InlineData("many", "orders: --count: 'many' is not a whole number (see 'orders --help')")]
    [InlineData("1.5", "orders: --count: '1.5' is not a whole number (see 'orders --help')")]
    public async Task AFlagsWholeNumberTooLarge_IsSaidToBeOutOfRange_AndOtherTextToBeNoWholeNumber(string value, string expected)
    {
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(["produce", "--count", value], new StringWriter(), stderr);

        Assert.Equal((OrdersCli.ExitUsage, expected), (exit, stderr.ToString().Trim()));
    }

    [Theory]
    [InlineData("stats", "Logging__LogLevel__Default", "Loud")]
    [InlineData("consume", "Logging__Console__LogLevel__Orders", "chatty")]
    public async Task BadLogLevel_InTheEnvironment_OneLineErrorNamingTheSetting_Exit2(string verb, string variable, string value)
    {
        var line = await OneLineExit2With(variable, value, verb, "--bootstrap-servers", "127.0.0.1:1");

        Assert.StartsWith($"orders: {variable.Replace("__", ":", StringComparison.Ordinal)}: '{value}' is not a log level", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("consume", "Kafka__group.id", "other", "Processor:GroupId (--group)")]
    [InlineData("consume", "Kafka__GroupId", "other", "Processor:GroupId (--group)")]
    [InlineData("produce", "Kafka__acks", "1", "acks=all")]
    [InlineData("consume", "Kafka__enable.auto.offset.store", "true", "checkpoint")]
    public async Task AClientSettingEveryClientSetsItself_IsRefused_NotReplacedSilently(string verb, string variable, string value, string said)
    {
        var line = await OneLineExit2With(variable, value, verb, "--bootstrap-servers", "127.0.0.1:1");

        Assert.StartsWith($"orders: {variable.Replace("__", ":", StringComparison.Ordinal)}: ", line, StringComparison.Ordinal);
        Assert.Contains(said, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadUrl_InTheEnvironment_IsRejectedLikeAFlag()
    {
        var stderr = new StringWriter();
        using var _ = TestEnvironment.Variable("SchemaRegistry__Url", "localhost-without-scheme");

        var exit = await OrdersCli.RunAsync(["produce", "--count", "1"], new StringWriter(), stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Contains("localhost-without-scheme", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Runs the command with one environment variable set: exit 2 and one line on stderr, which it returns.</summary>
    private static async Task<string> OneLineExit2With(string variable, string value, params string[] args)
    {
        var stderr = new StringWriter();
        using var _ = TestEnvironment.Variable(variable, value);

        var exit = await OrdersCli.RunAsync(args, new StringWriter(), stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        return Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
