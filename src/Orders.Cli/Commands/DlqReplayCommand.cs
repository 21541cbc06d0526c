using System.CommandLine;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.DeadLetters;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Monitoring.Tracing;

namespace Orders.Cli.Commands;

/// <summary><c>orders dlq replay</c>: republishes dead letters to their original partition, each original record once, even when interrupted and run again.</summary>
internal static class DlqReplayCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions();
        var (reason, since) = (DlqCommand.ReasonOption(), DlqCommand.SinceOption());
        var dryRun = new Option<bool>("--dry-run") { Description = "Decide and print what would be replayed; publish nothing." };
        // Test-only: slows publishing so that a test can kill a replay halfway.
        var delay = new Option<int>("--replay-delay-ms") { Hidden = true, DefaultValueFactory = _ => 0 };
        var command = new Command(
            "replay",
            "Republish the selected dead letters to their original topic and partition, each original record once, even when interrupted and run again.")
        {
            reason, since, dryRun, delay,
        };
        client.AddTo(command, flags);
        command.SetAction((parseResult, cancellationToken) => DlqCommand.RunAsync(client, flags, parseResult, stderr, async (_, settings, logger) =>
        {
            var filter = DlqCommand.Filter(parseResult, reason, since, TimeProvider.System.GetUtcNow());
            var options = new ReplayOptions(filter, parseResult.GetValue(dryRun), TimeSpan.FromMilliseconds(Math.Max(0, parseResult.GetValue(delay))));
            using var tracing = OrdersTracing.Start(settings.Tracing, logger, TracedComponent.Replay);
            using var reader = new TopicReader(settings.ReaderConfig(), DlqCommand.ReadTimeout, TimeProvider.System, logger);
            await reader.WaitForBrokerAsync(cancellationToken);
            var queue = new DeadLetterQueue(reader, settings.ProcessorTopic);
            var replayer = new DeadLetterReplayer(reader, settings.ProducerConfig(), TimeProvider.System, logger);
            var progress = settings.Json ? (Action<ReplayDecision>)(_ => { }) : decision => stdout.WriteLine(ReplayText.ReplayLine(decision));
            // The replay reads with synchronous Kafka calls between its awaits: it starts on a thread of its own (its first read,
            // the longest, is off the pool); after an await it resumes on the pool, a known gap.
            var report = await BlockingCall.RunAsync(() => replayer.RunAsync(queue, options, progress, cancellationToken), cancellationToken).Unwrap();
            await stdout.WriteLineAsync(settings.Json ? ReplayText.ReplayJson(report) : ReplayText.ReplaySummary(report));
            return report.Count(ReplayOutcome.Failed) + report.Count(ReplayOutcome.Interrupted) == 0 ? OrdersCli.ExitOk : OrdersCli.ExitFailure;
        }));
        return command;
    }
}
