using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// Bad flags, settings, environment variables and config files on every verb, run as a user runs
/// them: <c>orders</c> as a process of its own, so that everything it prints counts (its host's
/// logs included). Each must end in exactly one line on stderr naming the problem, exit code 2, no
/// stack trace, nothing on stdout, and no wait: nothing connects before settings are checked (the
/// bootstrap address given, port 1, has no broker anyway).
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("orders-bad-input").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string[], string[]> Cases() => new()
    {
        // description, args, environment (NAME=VALUE)
        { "empty group", ["consume", "--group", ""], [] },
        { "a group with a line break (it split the log lines)", ["consume", "--group", "a\nb"], [] },
        { "a group longer than a Kafka string (refused by the broker after a minute)", ["consume", "--group", new string('g', 40_000)], [] },
        { "a stats group with a tab", ["stats", "--group", "a\tb"], [] },
        { "http host not an address", ["consume", "--http-host", "not an ip"], [] },
        { "http host not of this machine", ["consume", "--http-host", "203.0.113.7"], [] },
        { "http host in a short form (0 is every interface)", ["consume", "--http-host", "0"], [] },
        { "no-http with a port", ["consume", "--no-http", "--http-port", "9000"], [] },
        { "max attempts not a number", ["consume"], ["Processor__MaxAttempts=abc"] },
        { "max attempts negative", ["consume"], ["Processor__MaxAttempts=-3"] },
        { "checkpoint interval not a duration", ["consume"], ["Processor__CheckpointInterval=forever"] },
        { "a duration as a bare number (days to .NET)", ["consume"], ["Processor__UntilIdle=3"] },
        { "the producer's duration as a bare number", ["produce"], ["Producer__Duration=2.5"] },
        { "the dashboard's interval as a bare number", ["consume"], ["Processor__Http__DashboardInterval=1"] },
        { "a choice by its number", ["consume"], ["Processor__Ordering=1"] },
        { "a producer's drain longer than a stop", ["produce"], ["Producer__DrainTimeout=00:01:00"] },
        { "a demo of two topics", ["demo", "--duration", "1"], ["Producer__Topic=a", "Processor__Topic=b"] },
        { "a subject name strategy the clients do not use", ["produce"], ["SchemaRegistry__ValueSubjectNameStrategy=Record"] },
        { "created topics' min.insync.replicas above their replicas (no write could succeed)", ["consume"], ["Processor__CreatedTopics__ReplicationFactor=1", "Processor__CreatedTopics__MinInsyncReplicas=2"] },
        { "revoke and close timeouts longer than a stop", ["consume"], ["Processor__RevokeTimeout=00:00:15", "Processor__CloseTimeout=00:00:10"] },
        { "until idle zero", ["consume", "--until-idle", "0"], [] },
        { "a negative wait for the first assignment (its error later said 'waited 1 s')", ["consume", "--until-idle", "1"], ["Processor__FirstAssignmentWait=-00:00:01"] },
        { "bootstrap not host:port", ["consume", "--until-idle", "1"], ["Kafka__BootstrapServers=notahost:notaport"] },
        { "linger negative", ["consume"], ["Kafka__linger.ms=-5"] },
        { "unknown Kafka property", ["consume"], ["Kafka__no.such.property=1"] },
        { "more requests in flight than an idempotent producer allows", ["produce"], ["Kafka__max.in.flight=10"] },
        { "bad group protocol", ["consume"], ["Kafka__group.protocol=bogus"] },
        { "a transactional id (every send failed at run time)", ["produce"], ["Kafka__transactional.id=orders-1"] },
        { "Kafka CA file missing, SSL off", ["produce"], ["Kafka__SslCaLocation=/nonexistent/ca.pem"] },
        { "Kafka client key missing, SSL on", ["dlq", "list"], ["Kafka__SecurityProtocol=Ssl", "Kafka__ssl.key.location=/nonexistent/client.key"] },
        { "misspelt setting in the environment", ["consume"], ["Processor__MaxAtempts=3"] },
        { "misspelt section in the environment", ["consume"], ["Procesor__GroupId=x"] },
        { "misspelt setting in the environment, keys joined by ':'", ["consume"], ["Processor:MaxAtempts=5"] },
        { "misspelt section in the environment, keys joined by ':'", ["produce"], ["Producr:Rate=5"] },
        { "count not a number", ["produce", "--count", "many"], [] },
        { "rate zero", ["produce", "--rate", "0"], [] },
        { "producer rate negative in the environment", ["produce"], ["Producer__Rate=-1"] },
        { "misspelt producer setting", ["produce"], ["Producer__Cont=5"] },
        { "a client setting Confluent.Kafka parses, not a boolean", ["produce"], ["Kafka__dotnet.producer.enable.background.poll=maybe"] },
        { "bad topic in the environment", ["dlq", "list"], ["Processor__Topic=bad topic"] },
        { "OTLP endpoint not a URL", ["consume"], ["OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"] },
        { "OTLP protocol unknown", ["produce"], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"] },
        { "trace sampler unknown", ["dlq", "replay"], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_TRACES_SAMPLER=sometimes"] },
        { "trace sampler ratio above 1", ["demo"], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_TRACES_SAMPLER=traceidratio", "OTEL_TRACES_SAMPLER_ARG=2"] },
        { "OTLP export timeout not a number (the SDK alone would ignore it)", ["consume"], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_TIMEOUT=abc"] },
        { "span queue size negative (the SDK alone would ignore it)", ["produce"], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_BSP_MAX_QUEUE_SIZE=-1"] },
        { "misspelt OpenTelemetry setting", ["consume"], ["OpenTelemetry__Endpont=http://127.0.0.1:1"] },
        { "registry not a url", ["produce", "--schema-registry", "not a url"], [] },
        { "watch with json", ["stats", "--watch", "1", "--json"], [] },
        { "empty stats group", ["stats", "--group", ""], [] },
        { "demo rate not a number", ["demo", "--rate", "fast"], [] },
        { "bench count zero", ["bench", "--count", "0"], [] },
        { "stack without brokers", ["stack", "--brokers", "0"], [] },
        { "health url not a url", ["health", "--url", "localhost:8080/health/live"], [] },
        { "unknown flag", ["consume", "--no-such-flag"], [] },
        { "unknown verb", ["nonsense"], [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ABadValue_IsOneLine_Exit2_NoStackTrace_NoWait(string description, string[] args, string[] environment)
    {
        // Where the environment sets the address under test, a flag would override it.
        var local = args is ["consume" or "produce" or "stats" or "dlq", ..] && !environment.Any(e => e.StartsWith("Kafka__BootstrapServers=", StringComparison.Ordinal));
        await AssertRefusedAsync(description, [.. args, .. local ? Local : []], environment);
    }

    [Theory]
    [InlineData("misspelt section", """{ "Processr": { "GroupId": "g" } }""")]
    [InlineData("value of the wrong type", """{ "Processor": { "MaxAttempts": "many" } }""")]
    [InlineData("misspelt key", """{ "Processor": { "GroupID": "g", "UntilIdel": "00:00:05" } }""")]
    [InlineData("misspelt http key", """{ "Processor": { "Http": { "Prot": 80 } } }""")]
    [InlineData("not JSON", "{ Processor: ")]
    [InlineData("not an object", "[1, 2]")]
    public async Task ABadSettingsFile_IsOneLine_Exit2(string description, string content)
    {
        var file = Path.Combine(_folder, "settings.json");
        await File.WriteAllTextAsync(file, content, TestContext.Current.CancellationToken);

        await AssertRefusedAsync(description, ["consume", "--config", file, .. Local], []);
    }

    [Fact]
    public async Task ASettingsFileThatIsADirectory_IsSaidSo() =>
        Assert.Contains("is a directory", await AssertRefusedAsync("directory", ["consume", "--config", _folder, .. Local], []), StringComparison.Ordinal);

    [Fact]
    public async Task ASettingsFileThatNeverEnds_IsRefusedAtOnce() =>
        Assert.Contains("larger than", await AssertRefusedAsync("/dev/zero", ["consume", "--config", "/dev/zero", .. Local], []), StringComparison.Ordinal);

    [Fact]
    public async Task ASettingsFileThatIsAFifoNothingWritesTo_IsRefused_NotWaitedOnForever()
    {
        var fifo = await Orders.Tests.Shared.Fifo.MakeAsync(_folder, "settings.fifo");

        Assert.Contains("not a regular file", await AssertRefusedAsync("fifo", ["consume", "--config", fifo, .. Local], []), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAppsettingsFileThatIsAFifoNothingWritesTo_IsRefused_NotWaitedOnForever()
    {
        // appsettings.{DOTNET_ENVIRONMENT}.json beside the executable: only a process of this environment reads it.
        var environment = $"fifo{Guid.NewGuid():N}";
        var fifo = await Orders.Tests.Shared.Fifo.MakeAsync(AppContext.BaseDirectory, $"appsettings.{environment}.json");
        try
        {
            var line = await AssertRefusedAsync("appsettings fifo", ["consume", .. Local], [$"DOTNET_ENVIRONMENT={environment}"]);

            Assert.Contains($"settings file {fifo}: cannot be read", line, StringComparison.Ordinal);
            Assert.Contains("not a regular file", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact]
    public async Task AnAtWord_IsAnUnknownArgument_NoFileOfThatNameIsRead()
    {
        // System.CommandLine reads "@path" as a response file, whole: a directory was an unhandled exception (exit 134),
        // a FIFO a hang, /dev/zero every byte of memory.
        var fifo = await Orders.Tests.Shared.Fifo.MakeAsync(_folder, "args.fifo");
        foreach (var word in (string[])[$"@{_folder}", $"@{fifo}", "@/dev/zero"])
        {
            Assert.Contains($"Unrecognized command or argument '{word}'", await AssertRefusedAsync(word, ["stats", word, .. Local], []), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AMisspeltSection_SuggestsTheRightOne() =>
        Assert.Contains("did you mean Processor?", await AssertRefusedAsync("section", ["consume", .. Local], ["Processr__GroupId=g"]), StringComparison.Ordinal);

    [Fact]
    public async Task AParseError_NamesWhatTheValueMustBe_NotACrlType()
    {
        var line = await AssertRefusedAsync("count", ["produce", "--count", "many", .. Local], []);

        Assert.Contains("--count: 'many' is not a whole number", line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingKafkaCaFile_IsNamed_NotLibrdkafkasBioError()
    {
        var line = await AssertRefusedAsync("ca", ["consume", .. Local], ["Kafka__SecurityProtocol=Ssl", "Kafka__SslCaLocation=/nonexistent/ca.pem"]);

        Assert.Equal("orders: Kafka:SslCaLocation: file '/nonexistent/ca.pem' does not exist", line);
    }

    [Fact]
    public async Task AnAliasedKafkaSetting_IsNamedAsTheUserWroteIt()
    {
        var line = await AssertRefusedAsync("linger", ["produce", .. Local], ["Kafka__linger.ms=-5"]);

        Assert.Contains("Kafka:linger.ms", line, StringComparison.Ordinal);
        Assert.DoesNotContain("queue.buffering.max.ms", line, StringComparison.Ordinal);
    }

    private static string[] Local => ["--bootstrap-servers", "127.0.0.1:1", "--schema-registry", "http://127.0.0.1:1"];

    /// <returns>The one line.</returns>
    private static async Task<string> AssertRefusedAsync(string description, string[] args, string[] environment)
    {
        var variables = environment.Select(e => e.Split('=', 2)).Select(p => (p[0], p[1])).ToArray();
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(args, Limit, variables);

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == 2 && lines.Length == 1, $"{description}: orders {string.Join(' ', args)} exited {exit} with {lines.Length} line(s):\n{stderr}");
        Assert.StartsWith("orders: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
        return lines[0];
    }
}
