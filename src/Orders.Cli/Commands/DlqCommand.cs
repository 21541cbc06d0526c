using System.CommandLine;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Cli.Hosting;
using Orders.Cli.Settings;
using Orders.DeadLetters;

namespace Orders.Cli.Commands;

/// <summary>
/// <c>orders dlq list|show|replay</c>: the dead letters of a source topic (<c>--topic</c>, else
/// <c>Processor:Topic</c>), read without joining any consumer group. See docs/DEAD-LETTERS.md.
/// </summary>
internal static class DlqCommand
{
    /// <summary>How long a metadata call, or a read that makes no progress, may take.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);

    public static Command Build(TextWriter stdout, TextWriter stderr) => new("dlq", "Inspect and replay dead letters, the records the processor could not process.")
    {
        DlqListCommand.Build(stdout, stderr),
        DlqShowCommand.Build(stdout, stderr),
        DlqReplayCommand.Build(stdout, stderr),
    };

    public static Option<string?> ReasonOption()
    {
        var option = new Option<string?>("--reason") { Description = $"Only dead letters of this reason: {string.Join(", ", DeadLetterFilter.Reasons)}." };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } reason && DeadLetterFilter.ValidateReason(reason) is { } error)
            {
                result.AddError($"--reason: {error}");
            }
        });
        return option;
    }

    public static Option<string?> SinceOption()
    {
        var option = new Option<string?>("--since") { Description = "Only dead letters from this time on: a duration back from now (90s, 15m, 2h, 1d) or an ISO-8601 time (2025-06-01T14:30:00Z; UTC without an offset)." };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } since && SinceParser.Validate(since) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }

    public static DeadLetterFilter Filter(ParseResult parseResult, Option<string?> reason, Option<string?> since, DateTimeOffset now) =>
        new(parseResult.GetValue(reason), parseResult.GetValue(since) is { } text ? SinceParser.Parse(text, now, out _) : null);

    /// <summary>Loads the settings, then runs the verb through <see cref="VerbRun"/> (one line and an exit code for whatever goes wrong).</summary>
    public static Task<int> RunAsync(ClientOptions client, FlagMap flags, ParseResult parseResult, TextWriter stderr, Func<VerbRun, CliSettings, ILogger, Task<int>> work) =>
        VerbRun.RunAsync(stderr, async run =>
        {
            var settings = client.Load(parseResult, flags);
            run.Registry = settings.SchemaRegistryConfig();
            using var loggers = settings.CreateLoggerFactory();
            var host = run.Own(CliHost.Build(CliHost.CreateBuilder(settings, loggers, registry: null, web: false)));
            try
            {
                return await work(run, settings, loggers.CreateLogger("Orders.DeadLetters"));
            }
            catch (KafkaException e)
            {
                return await run.FailAsync(OrdersCli.ExitFailure, $"Kafka error: {e.Error.Reason}");
            }
        });
}
