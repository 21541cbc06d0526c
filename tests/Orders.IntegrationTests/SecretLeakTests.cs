using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// No secret shows up anywhere: <c>orders</c> runs as separate processes with SASL, TLS, OAuth and
/// registry credentials configured (on the local stack they are carried but unused, except the
/// registry's, which it checks), at debug level with librdkafka's <c>debug=all</c>, and every
/// output is searched for every secret value. To cover another run, add a call to
/// <see cref="RunAsync"/>; for another place secrets could reach, pass its text to <see cref="AssertClean"/>.
/// </summary>
public sealed class SecretLeakTests : IAsyncLifetime
{
    private const string RegistryUser = "orders";
    private const string RegistryPassword = "leak-registry-pw-7Qx";
    private const string WrongRegistryPassword = "leak-wrong-registry-pw-8Jv";

    /// <summary>Every value that must never be printed.</summary>
    private static readonly string[] Secrets =
    [
        RegistryPassword, WrongRegistryPassword, "leak-sasl-pw-3Xk", "leak-ssl-key-pw-9Kd", "leak-keystore-pw-2Mq", "leak-oauth-secret-5Zr",
    ];

    /// <summary>Secrets as users configure them: environment variables, in both naming styles.</summary>
    private static readonly (string Name, string Value)[] SecretEnvironment =
    [
        ("Kafka__sasl.username", "leak-user"),
        ("Kafka__sasl.password", "leak-sasl-pw-3Xk"),
        ("Kafka__SslKeyPassword", "leak-ssl-key-pw-9Kd"),
        ("Kafka__ssl.keystore.password", "leak-keystore-pw-2Mq"),
        ("Kafka__sasl.oauthbearer.client.secret", "leak-oauth-secret-5Zr"),
    ];

    private static readonly (string Name, string Value)[] DebugEverything =
    [
        ("Logging__LogLevel__Default", "Debug"),
        ("Kafka__debug", "all"),
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("orders-leak").FullName;
    private readonly ConcurrentQueue<string> _stackOutput = new();
    private readonly int _kafkaPort = OrdersProcess.FreePort();
    private readonly int _registryPort = OrdersProcess.FreePort();
    private Process? _stack;

    private string BootstrapServers => $"localhost:{_kafkaPort}";

    private string RegistryUrl => $"http://localhost:{_registryPort}";

    public async ValueTask InitializeAsync()
    {
        var users = Path.Combine(_folder, "users.txt");
        await File.WriteAllTextAsync(users, $"{RegistryUser}:{RegistryPassword}\n");
        _stack = OrdersProcess.Start(["stack", "--kafka-port", _kafkaPort.ToString(), "--registry-port", _registryPort.ToString(), "--registry-auth", users, "--partitions", "3"]);
        var ready = new TaskCompletionSource();
        _stack.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stackOutput.Enqueue(e.Data);
                if (e.Data.Contains("Press Ctrl+C", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        };
        _stack.ErrorDataReceived += (_, e) => _stackOutput.Enqueue(e.Data ?? "");
        _stack.BeginOutputReadLine();
        _stack.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stack is not null)
        {
            _stack.Kill(entireProcessTree: true);
            await _stack.WaitForExitAsync();
            _stack.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ADebugLevelRun_WithSecretsConfigured_PrintsNoneOfThem()
    {
        string[] endpoints = ["--bootstrap-servers", BootstrapServers, "--schema-registry", RegistryUrl];
        (string, string) userInfo = ("SchemaRegistry__BasicAuthUserInfo", $"{RegistryUser}:{RegistryPassword}");

        var produced = await RunAsync("produce", ["produce", .. endpoints, "--count", "40", "--invalid-ratio", "0.25", "--json"], 0, userInfo);
        await RunAsync("consume", ["consume", .. endpoints, "--group", "leak-test", "--until-idle", "3", "--json"], 0, userInfo);
        await RunAsync("produce, credentials in the URL", ["produce", "--bootstrap-servers", BootstrapServers, "--count", "5"], 0,
            ("SchemaRegistry__Url", $"http://{RegistryUser}:{RegistryPassword}@localhost:{_registryPort}"));
        await RunAsync("produce, wrong registry password", ["produce", .. endpoints, "--count", "5"], 1,
            ("SchemaRegistry__BasicAuthUserInfo", $"{RegistryUser}:{WrongRegistryPassword}"));
        await RunAsync("consume, bad registry URL with credentials", ["consume", "--bootstrap-servers", BootstrapServers], 2,
            ("SchemaRegistry__Url", $"ftp://{RegistryUser}:{RegistryPassword}@localhost"));
        // The demo with a stack of its own (no SASL, no registry auth there: the secrets are configured
        // all the same): its live view, and with --json its logs, at debug level.
        foreach (var json in new[] { false, true })
        {
            string[] demoArgs =
            [
                "demo", "--duration", "5",
                "--kafka-port", OrdersProcess.FreePort().ToString(CultureInfo.InvariantCulture),
                "--registry-port", OrdersProcess.FreePort().ToString(CultureInfo.InvariantCulture),
            ];
            var demo = await RunAsync(json ? "demo --json" : "demo", json ? [.. demoArgs, "--json"] : demoArgs, 0, userInfo);
            Assert.Contains(json ? "sasl.password = [redacted]" : "mean order value", demo.Stdout + demo.Stderr, StringComparison.Ordinal);
        }

        foreach (var verb in new[] { "produce", "consume", "stack", "demo" })
        {
            await RunAsync($"{verb} --help", [verb, "--help"], 0, userInfo);
        }

        // The premise: librdkafka was asked to dump everything, secrets' names included.
        Assert.Contains("sasl.password = [redacted]", produced.Stderr, StringComparison.Ordinal);
        Assert.Contains("dbug:", produced.Stderr, StringComparison.Ordinal);

        // Dead letters carry error messages and stack traces: none may quote a secret.
        var invalid = JsonDocument.Parse(produced.Stdout).RootElement.GetProperty("invalid").GetInt32();
        Assert.True(invalid > 0, "the run should dead-letter some orders");
        foreach (var letter in ReadDeadLetters(Topics.DeadLetterFor(Topics.Orders), invalid))
        {
            AssertClean("dead-letter headers", string.Join('\n', letter.Select(h => $"{h.Key}={Encoding.UTF8.GetString(h.GetValueBytes())}")));
        }

        AssertClean("orders stack", string.Join('\n', _stackOutput));
    }

    /// <summary>Runs <c>orders</c> with the secrets and debug logging configured, checks its exit code, and searches its output.</summary>
    private async Task<(string Stdout, string Stderr)> RunAsync(string name, string[] args, int expectedExit, params (string Name, string Value)[] environment)
    {
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(args, TimeSpan.FromSeconds(120), [.. SecretEnvironment, .. DebugEverything, .. environment]);

        Assert.True(exit == expectedExit, $"{name}: exit {exit}, expected {expectedExit}\n{Tail(stderr)}");
        AssertClean($"{name} (stdout)", stdout);
        AssertClean($"{name} (stderr)", stderr);
        return (stdout, stderr);
    }

    private static void AssertClean(string source, string text)
    {
        foreach (var secret in Secrets)
        {
            var at = text.IndexOf(secret, StringComparison.Ordinal);
            Assert.True(at < 0, $"{source} shows a secret: ...{text[Math.Max(0, at - 200)..Math.Min(text.Length, at + secret.Length + 50)]}...");
        }
    }

    private List<Headers> ReadDeadLetters(string topic, int count)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = StackFixture.Unique("leak-dlq"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var headers = new List<Headers>();
        var reading = Stopwatch.StartNew();
        while (headers.Count < count && reading.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } message })
            {
                headers.Add(message.Headers);
            }
        }

        consumer.Close();
        Assert.Equal(count, headers.Count);
        return headers;
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
