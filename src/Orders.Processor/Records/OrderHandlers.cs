using System.Globalization;
using System.Text.RegularExpressions;
using Orders.Contracts;

namespace Orders.Processor.Records;

/// <summary>
/// What the processor does with a valid order before it is counted: the extension point for real
/// work (a payment, a stock reservation, a database write). It may be slow and asynchronous: up to
/// <c>Processor:MaxInFlight</c> calls run at once, ordered per key (<c>Processor:Ordering</c>). Throw to
/// fail: the failure is retried with backoff up to <c>Processor:MaxAttempts</c>, then dead-lettered
/// (<see cref="InvalidOrderException"/>: dead-lettered at once as invalid). Honour the token: it fires
/// when the record's partition is taken away or the processor stops, and the record is then
/// processed again by whoever owns it next. The order is the handler's to read from any thread (its
/// id, customer id and channel are made strings when first read). Register yours before <c>AddOrderProcessor</c>:
/// <code>builder.Services.AddSingleton&lt;IOrderHandler, PaymentHandler&gt;();</code>
/// </summary>
public interface IOrderHandler
{
    ValueTask HandleAsync(Order order, CancellationToken cancellationToken);
}

/// <summary>
/// Stands in for a downstream call, for demos, tests and benchmarks: it takes
/// <c>Processor:Handler:Latency</c> (<c>--handler-latency</c>) and fails now and then
/// (<c>--fail-ratio</c>). Random choices are made when a call starts, on the loop's thread, from
/// the seeded <see cref="Random"/>; the wait runs on the injected clock.
/// </summary>
public sealed class SimulatedDownstream(double failRatio, LatencyRange latency, Random random, TimeProvider time) : IOrderHandler
{
    public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
    {
        var fails = failRatio > 0 && random.NextDouble() < failRatio;
        var wait = latency.Pick(random);
        if (wait <= TimeSpan.Zero)
        {
            return fails ? ValueTask.FromException(Failure(order)) : ValueTask.CompletedTask;
        }

        return WaitAsync(order, wait, fails, cancellationToken);
    }

    private async ValueTask WaitAsync(Order order, TimeSpan wait, bool fails, CancellationToken cancellationToken)
    {
        await Task.Delay(wait, time, cancellationToken);
        if (fails)
        {
            throw Failure(order);
        }
    }

    private static SimulatedTransientException Failure(Order order) => new($"simulated transient failure handling order {order.OrderId}");
}

/// <summary>A handler latency: one duration (<c>10ms</c>), or a range to pick from uniformly (<c>5ms-20ms</c>).</summary>
public readonly partial record struct LatencyRange(TimeSpan Min, TimeSpan Max)
{
    public static LatencyRange None { get; } = new(TimeSpan.Zero, TimeSpan.Zero);

    public TimeSpan Pick(Random random) =>
        Max <= Min ? Min : Min + TimeSpan.FromTicks((long)(random.NextDouble() * (Max - Min).Ticks));

    /// <summary>Parses <c>10ms</c>, <c>1.5s</c>, <c>250us</c>, <c>0</c>, or <c>MIN-MAX</c> of those.</summary>
    public static bool TryParse(string? text, out LatencyRange range, out string? error)
    {
        range = None;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length > 2 || !TryDuration(parts[0], out var min) || !TryDuration(parts[^1], out var max))
        {
            error = $"'{text}' is not a duration such as 10ms or a range such as 5ms-20ms (units: us, ms, s)";
            return false;
        }

        if (max < min || max > TimeSpan.FromMinutes(1))
        {
            error = $"'{text}' must go from a shorter to a longer duration, of at most a minute";
            return false;
        }

        range = new LatencyRange(min, max);
        return true;
    }

    private static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = Duration().Match(text);
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n))
        {
            return false;
        }

        if (n > 1e9 && match.Groups["unit"].Value != "")
        {
            // Past any limit the caller sets (a minute), and in seconds past what a TimeSpan holds: too long.
            duration = TimeSpan.MaxValue;
            return true;
        }

        duration = match.Groups["unit"].Value switch
        {
            "us" => TimeSpan.FromMicroseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "" when n == 0 => TimeSpan.Zero,
            "" => TimeSpan.MinValue,
            _ => TimeSpan.FromMilliseconds(n),
        };
        return duration >= TimeSpan.Zero;
    }

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)(?<unit>us|ms|s)?$")]
    private static partial Regex Duration();
}
