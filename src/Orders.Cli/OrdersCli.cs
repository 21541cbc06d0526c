using System.CommandLine;
using Orders.Cli.Commands;

namespace Orders.Cli;

/// <summary>Builds the command tree and turns every kind of bad input into one line and exit code 2.</summary>
public static class OrdersCli
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
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot(stdout, stderr);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            await stderr.WriteLineAsync($"orders: {parseResult.Errors[0].Message} (see 'orders --help')");
            return ExitUsage;
        }

        // On SIGINT/SIGTERM the verbs finish the record in hand, commit and close; give them time to.
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
        return await parseResult.InvokeAsync(configuration);
    }
}
