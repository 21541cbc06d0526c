using System.CommandLine;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.DeadLetters;
using Orders.Hosting;
using Orders.Kafka;

namespace Orders.Cli.Commands;

/// <summary><c>orders dlq list</c>: the dead letters of the topic, oldest first, filtered by reason and age.</summary>
internal static class DlqListCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions();
        var (reason, since) = (DlqCommand.ReasonOption(), DlqCommand.SinceOption());
        var command = new Command("list", "List the dead letters of --topic: position, age, reason, original record, error.") { reason, since };
        client.AddTo(command, flags);
        command.SetAction((parseResult, cancellationToken) => DlqCommand.RunAsync(client, flags, parseResult, stderr, async (_, settings, logger) =>
        {
            var now = TimeProvider.System.GetUtcNow();
            var filter = DlqCommand.Filter(parseResult, reason, since, now);
            using var reader = new TopicReader(settings.ReaderConfig(), DlqCommand.ReadTimeout, TimeProvider.System, logger);
            await reader.WaitForBrokerAsync(cancellationToken);
            var queue = new DeadLetterQueue(reader, settings.ProcessorTopic);
            var total = 0;
            var letters = new List<DeadLetter>();
            await BlockingCall.RunAsync(
                () =>
                {
                    foreach (var letter in queue.ReadAll(cancellationToken))
                    {
                        total++;
                        if (filter.Matches(letter))
                        {
                            // The list shows summaries: holding whole records would take the topic's size in memory.
                            letters.Add(letter.Summary());
                        }
                    }
                },
                cancellationToken);

            letters.Sort((a, b) => (a.FailedAt, a.Position.Partition, a.Position.Offset).CompareTo((b.FailedAt, b.Position.Partition, b.Position.Offset)));
            await stdout.WriteLineAsync(settings.Json
                ? DeadLetterText.ListJson(queue.Topic, settings.ProcessorTopic, total, filter, letters, now)
                : DeadLetterText.ListText(queue.Topic, total, filter, letters, now));
            return OrdersCli.ExitOk;
        }));
        return command;
    }
}
