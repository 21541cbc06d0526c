using System.CommandLine;
using System.Text.RegularExpressions;
using Orders.Cli.Commands;
using Orders.Cli.Hosting;
using Orders.Hosting;

namespace Orders.Cli;

/// <summary>Builds the command tree and turns every kind of bad input into one line and exit code 2.</summary>
public static partial class OrdersCli
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Order processing on Apache Kafka: local stack, producer, processor and demo.");
        root.Subcommands.Add(StackCommand.Build(stdout, stderr));
        root.Subcommands.Add(ProduceCommand.Build(stdout, stderr));
        root.Subcommands.Add(ConsumeCommand.Build(stdout, stderr));
        root.Subcommands.Add(DemoCommand.Build(stdout, stderr));
        root.Subcommands.Add(StatsCommand.Build(stdout, stderr));
        root.Subcommands.Add(DlqCommand.Build(stdout, stderr));
        root.Subcommands.Add(BenchCommand.Build(stdout, stderr));
        root.Subcommands.Add(HealthCommand.Build(stdout, stderr));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot(stdout, stderr);
        // No response files: "@path" stays a word. The parser would read any file named so, whole (a directory, a
        // FIFO, /dev/zero): an unhandled exception, a hang, or memory exhausted, for a feature no verb offers.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Errors.Count > 0)
        {
            // A word the parser did not know says more than the verb it then found missing ("orders frob").
            var error = parseResult.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal)) ?? parseResult.Errors[0];
            await stderr.WriteLineAsync($"orders: {InUsersWords(error.Message)} (see 'orders --help')");
            return ExitUsage;
        }

        // On SIGINT/SIGTERM the verbs finish the record in hand, commit and close; give them time to
        // (StopLimit), and say so if that was not enough. The signals are ours, not System.CommandLine's.
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null };
        using var watchdog = new StopWatchdog(stderr, StopLimit.AfterSignal, TimeProvider.System);
        var invocation = parseResult.InvokeAsync(configuration, watchdog.Token);
        return await Task.WhenAny(invocation, watchdog.Forced) == invocation ? await invocation : await watchdog.Forced;
    }

    /// <summary>System.CommandLine names the CLR type a value did not convert to (<c>System.Nullable`1[System.Int64]</c>): say what it must be instead.</summary>
    internal static string InUsersWords(string message)
    {
        var match = ParseFailure().Match(message);
        if (!match.Success)
        {
            // One line: a list the parser puts on lines of their own ("Must be one of:" and a value per line) goes on this one.
            var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return lines.Length <= 1 ? message : $"{lines[0]} {string.Join(", ", lines[1..])}";
        }

        var type = match.Groups["type"].Value;
        var inner = NullableOf().Match(type) is { Success: true } nullable ? nullable.Groups[1].Value : type;
        var value = match.Groups["value"].Value;
        // Digits that do not fit the type: a whole number all the same, too large for it.
        return TypeWords.For(inner) == "a whole number" && WholeNumber().IsMatch(value)
            ? $"{match.Groups["name"].Value}: '{value}' is out of range ({TypeWords.For(inner)} from {TypeWords.Range(inner)})"
            : $"{match.Groups["name"].Value}: '{value}' is not {TypeWords.For(inner)}";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (?:option|command|argument) '(?<name>[^']+)' as expected type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex ParseFailure();

    [GeneratedRegex(@"^System\.Nullable`1\[\[?(System\.[A-Za-z0-9]+)")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"^[+-]?[0-9]+$")]
    private static partial Regex WholeNumber();
}
