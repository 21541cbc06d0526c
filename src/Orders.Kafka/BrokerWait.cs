using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>No broker answered within the start-up wait: one line for the user, naming the address.</summary>
public sealed class BrokerUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The first answer of a cluster, as every verb that starts against one waits for it (<c>orders
/// consume</c> and <c>orders produce</c> alike): metadata of all topics (asking for one by name lets
/// a broker with auto-creation create it), in short slices so that Ctrl+C is honoured within one.
/// While nothing answers, it says so once (naming the address, and for the local default what starts
/// a broker there) instead of librdkafka's reports several times a second, and gives up after one bound
/// with one line naming the address and why.
/// </summary>
public static partial class BrokerWait
{
    /// <summary>The address the verbs use by default, where <c>orders stack</c> and <c>orders demo</c> start a broker.</summary>
    public const string LocalDefault = "localhost:9092";

    private static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);

    /// <param name="route">
    /// The client's log route: its reports of an unreachable broker are held until one answers (see
    /// <see cref="KafkaLogRoute.HoldNoBrokerErrors"/>; hold them before building the client, which connects at once).
    /// </param>
    /// <param name="giveUpAfter">How long to wait for any broker to answer.</param>
    /// <returns>The cluster's metadata, of all topics.</returns>
    /// <exception cref="BrokerUnreachableException">No broker answered within <paramref name="giveUpAfter"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled first.</exception>
    public static async Task<Metadata> FirstMetadataAsync(
        IAdminClient admin, KafkaLogRoute route, string? bootstrap, TimeSpan giveUpAfter, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        route.HoldNoBrokerErrors();
        var started = time.GetTimestamp();
        var saidSo = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sliceStart = time.GetTimestamp();
            var slice = Clamp(giveUpAfter - time.GetElapsedTime(started));
            try
            {
                var metadata = await BlockingCall.RunAsync(() => admin.GetMetadata(slice), CancellationToken.None);
                route.ReleaseNoBrokerErrors();
                return metadata;
            }
            catch (KafkaException e)
            {
                if (time.GetElapsedTime(started) >= giveUpAfter)
                {
                    throw new BrokerUnreachableException(
                        $"no Kafka broker at {bootstrap} answered within {giveUpAfter.TotalSeconds:0.#} s ({Why(route.LastHeldError) ?? e.Error.Reason}){Hint(bootstrap)}", e);
                }

                if (!saidSo)
                {
                    LogWaiting(logger, bootstrap ?? "(no bootstrap.servers)", giveUpAfter.TotalSeconds, Hint(bootstrap));
                    saidSo = true;
                }
            }

            // A refusal can come back at once: the next attempt waits for the slice's end, not a busy loop.
            var rest = slice - time.GetElapsedTime(sliceStart);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, time, cancellationToken);
            }
        }
    }

    /// <summary>For the local default address, what starts a broker there; else nothing.</summary>
    public static string Hint(string? bootstrap) =>
        bootstrap?.Trim() is LocalDefault or "127.0.0.1:9092"
            ? "; `orders stack` or `orders demo` starts one there"
            : "";

    /// <summary>librdkafka's report without its timing ("... Connection refused (after 0ms in state CONNECT)").</summary>
    private static string? Why(string? report) => report is null ? null : StateSuffix().Replace(report, "");

    private static TimeSpan Clamp(TimeSpan left) =>
        left < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : left > Slice ? Slice : left;

    [GeneratedRegex(@"\s*\(after \d+ms in state [A-Z_]+\)$")]
    private static partial Regex StateSuffix();

    [LoggerMessage(20, LogLevel.Warning, "Waiting for a Kafka broker at {Bootstrap} (for up to {Seconds} s): none answers yet{Hint}")]
    private static partial void LogWaiting(ILogger logger, string bootstrap, double seconds, string hint);
}
