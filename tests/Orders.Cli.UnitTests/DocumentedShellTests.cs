using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Orders.Kafka;
using Orders.Tests.Shared;

namespace Orders.Cli.UnitTests;

/// <summary>
/// Every shell block of the README and the docs, as a user pastes it: it parses in bash and in
/// POSIX sh (dash), and sets no variable a shell refuses. `export Kafka__security.protocol=SASL_SSL`
/// parses, then fails when it runs ("not a valid identifier"), and the setting never arrives; a
/// dotted name before a command (`Kafka__linger.ms=20 orders ...`) is taken for the command's name.
/// </summary>
public sealed partial class DocumentedShellTests
{
    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach (var block in DocumentedShell.Blocks())
        {
            data.Add(block.File, block.Line);
        }

        return data;
    }

    [Fact]
    public void TheDocumentation_HasTheShellBlocksTheseTestsRead() =>
        Assert.True(DocumentedShell.Blocks().Count >= 10, $"only {DocumentedShell.Blocks().Count} shell blocks found in {string.Join(", ", DocumentedShell.Files)}");

    [Theory]
    [MemberData(nameof(Blocks))]
    public void TheBlock_ParsesInBash(string file, int line) => AssertParses("bash", file, line);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void TheBlock_ParsesInPosixSh(string file, int line) => AssertParses("dash", file, line);

    [Fact]
    public void NoBlock_SetsAVariableNameAShellRefuses()
    {
        var refused = DocumentedShell.Blocks()
            .SelectMany(block => block.Lines.Select((text, i) => (Where: $"{block.File}:{block.Line + i}", Text: text)))
            .Where(line => RefusedName(line.Text) is not null)
            .Select(line => $"{line.Where}: {RefusedName(line.Text)} in: {line.Text.Trim()}")
            .ToList();

        Assert.True(refused.Count == 0, "a shell refuses these names (use the .NET name, Kafka__SecurityProtocol, or env 'Kafka__security.protocol=...' cmd):\n" + string.Join('\n', refused));
    }

    [Theory]
    [InlineData("export Kafka__security.protocol=SASL_SSL", "Kafka__security.protocol")]
    [InlineData("export A=1 Kafka__sasl.mechanism=PLAIN", "Kafka__sasl.mechanism")]
    [InlineData("Kafka__linger.ms=20 dotnet run --project src/Orders.Cli -- produce", "Kafka__linger.ms")]
    [InlineData("cd x && Kafka__linger.ms=20 orders produce", "Kafka__linger.ms")]
    [InlineData("export Kafka__SecurityProtocol=SASL_SSL", null)]
    [InlineData("env 'Kafka__linger.ms=20' orders produce", null)]
    [InlineData("DOTNET_ENVIRONMENT=Secure dotnet run --project src/Orders.Cli -- consume", null)]
    [InlineData("# export Kafka__security.protocol=SASL_SSL is refused", null)]
    [InlineData("kafka-configs.sh --add-config consumer.session.timeout.ms=10000", null)]
    public void TheCheck_TellsARefusedNameFromAnAcceptedOne(string line, string? refused) =>
        Assert.Equal(refused, RefusedName(line));

    [Fact]
    public void EveryKafkaVariable_TheDocumentationNames_IsAPropertyLibrdkafkaKnows()
    {
        var dotNetNames = new[] { typeof(ClientConfig), typeof(ProducerConfig), typeof(ConsumerConfig), typeof(AdminClientConfig) }
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .Select(p => p.Name)
            .ToHashSet(StringComparer.Ordinal);
        var named = DocumentedShell.Files
            .SelectMany(file => File.ReadAllLines(Path.Combine(DocumentedShell.Root, file)).Select((text, i) => (Where: $"{file}:{i + 1}", Text: text)))
            .SelectMany(line => KafkaVariable().Matches(line.Text).Select(m => (line.Where, Name: m.Groups["name"].Value)))
            .ToList();

        var wrong = named
            .Where(n => (!n.Name.Contains('.', StringComparison.Ordinal) && !dotNetNames.Contains(n.Name)) || !LibrdkafkaKnows(KafkaSettings.LibrdkafkaName(n.Name)))
            .Select(n => $"{n.Where}: Kafka__{n.Name} (librdkafka: {KafkaSettings.LibrdkafkaName(n.Name)})")
            .ToList();

        Assert.Contains(named, n => n.Name == "SecurityProtocol");
        Assert.True(wrong.Count == 0, "not a property librdkafka knows:\n" + string.Join('\n', wrong));
    }

    /// <returns>The variable name in <paramref name="line"/> that a shell refuses to set, or null.</returns>
    internal static string? RefusedName(string line)
    {
        if (line.TrimStart().StartsWith('#'))
        {
            return null;
        }

        foreach (Match export in Export().Matches(line))
        {
            foreach (var word in export.Groups["words"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = word.Split('=', 2)[0];
                if (!ValidName().IsMatch(name))
                {
                    return name;
                }
            }
        }

        return PrefixAssignment().Match(line) is { Success: true } prefix ? prefix.Groups["name"].Value : null;
    }

    private static void AssertParses(string shell, string file, int line)
    {
        var program = DocumentedShell.Find(shell);
        if (program is null)
        {
            var reason = $"{shell} is not installed: the documentation's shell blocks cannot be checked with it";
            if (Environment.GetEnvironmentVariable("ORDERS_REQUIRE_INTEROP") == "1")
            {
                Assert.Fail(reason);
            }

            Assert.Skip(reason);
        }

        var block = DocumentedShell.BlocksOf(file).Single(b => b.Line == line);
        var info = new ProcessStartInfo(program, ["-n"]) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        process.StandardInput.Write(block.Text);
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, $"{block} does not parse in {shell}: {errors}\n{block.Text}");
    }

    private static bool LibrdkafkaKnows(string property)
    {
        try
        {
            // No bootstrap servers: librdkafka checks the configuration and connects nowhere.
            using var client = new ProducerBuilder<Null, Null>(new Dictionary<string, string> { [property] = "1" })
                .SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KafkaException)
        {
            // A value it refuses still names a property it has.
            return !e.Message.StartsWith("No such configuration property", StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"(?:^|[;&|(]\s*)export\s+(?<words>[^;&|#]*)")]
    private static partial Regex Export();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ValidName();

    // At the start of a command: a word with a dot or a dash before '=' is no assignment to a shell.
    [GeneratedRegex(@"(?:^|&&|\|\||[;|(])\s*(?<name>[A-Za-z_][A-Za-z0-9_]*[.\-][A-Za-z0-9_.\-]*)=")]
    private static partial Regex PrefixAssignment();

    [GeneratedRegex(@"\bKafka__(?<name>[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9])")]
    private static partial Regex KafkaVariable();
}
