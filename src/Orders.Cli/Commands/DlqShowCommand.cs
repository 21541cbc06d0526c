using System.CommandLine;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.DeadLetters;
using Orders.Decoding;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Records;

namespace Orders.Cli.Commands;

/// <summary><c>orders dlq show PARTITION:OFFSET</c>: one dead letter, every header, and its order decoded where it can be.</summary>
internal static class DlqShowCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var flags = new FlagMap();
        var client = new ClientOptions();
        var address = new Argument<string>("letter") { Description = "PARTITION:OFFSET in the dead-letter topic, or a bare OFFSET when only one partition holds it." };
        address.Validators.Add(result =>
        {
            LetterAddress.Parse(result.GetValueOrDefault<string>() ?? "", out var error);
            if (error is not null)
            {
                result.AddError(error);
            }
        });
        var command = new Command("show", "Show one dead letter: every header, and the order decoded through the registry (a hex dump where it cannot be).") { address };
        client.AddTo(command, flags);
        command.SetAction((parseResult, cancellationToken) => DlqCommand.RunAsync(client, flags, parseResult, stderr, async (run, settings, logger) =>
        {
            var where = LetterAddress.Parse(parseResult.GetValue(address)!, out _)!.Value;
            using var reader = new TopicReader(settings.ReaderConfig(), DlqCommand.ReadTimeout, TimeProvider.System, logger);
            await reader.WaitForBrokerAsync(cancellationToken);
            var queue = new DeadLetterQueue(reader, settings.ProcessorTopic);
            var lookup = await BlockingCall.RunAsync(() => queue.Find(where, cancellationToken), cancellationToken);
            if (lookup.Letter is not { } letter)
            {
                // The address names no dead letter (or several): the user's input is at fault, not the run.
                return await run.FailAsync(OrdersCli.ExitUsage, lookup.Error!);
            }

            using var registry = settings.SchemaRegistryClient();
            // The registry client takes no token: Ctrl+C stops the wait for it (the client is disposed on the way out).
            var decoded = await LetterContent.DecodeAsync(new OrderDecoder(registry), letter.Value, letter.OriginalTimestamp).WaitAsync(cancellationToken);
            await stdout.WriteLineAsync(settings.Json ? DeadLetterText.ShowJson(letter, decoded) : DeadLetterText.ShowText(letter, decoded));
            return OrdersCli.ExitOk;
        }));
        return command;
    }
}
