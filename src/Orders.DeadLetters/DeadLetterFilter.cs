using System.Globalization;
using System.Text.RegularExpressions;
using Orders.Contracts;

namespace Orders.DeadLetters;

/// <summary>Which dead letters a command applies to: a reason, and those dead-lettered at or after a time.</summary>
public sealed record DeadLetterFilter(string? Reason = null, DateTimeOffset? Since = null)
{
    public static IReadOnlyList<string> Reasons { get; } =
        [DeadLetterHeaders.ReasonPoison, DeadLetterHeaders.ReasonInvalid, DeadLetterHeaders.ReasonRetriesExhausted];

    public bool Matches(DeadLetter letter) =>
        (Reason is null || letter.Reason == Reason) && (Since is null || letter.FailedAt >= Since);

    /// <returns>null for a known reason, else why not.</returns>
    public static string? ValidateReason(string reason) =>
        Reasons.Contains(reason, StringComparer.Ordinal)
            ? null
            : $"unknown reason '{reason}': use {string.Join(", ", Reasons)}";
}

/// <summary>
/// Parses <c>--since</c>: either a duration back from now, a number and one unit (<c>90s</c>, <c>15m</c>,
/// <c>2h</c>, <c>1d</c>), or an ISO-8601 date or time (<c>2025-06-01</c>, <c>2025-06-01T14:30</c>,
/// <c>2025-06-01T14:30:00.5+02:00</c>); a time without an offset is UTC.
/// </summary>
public static partial class SinceParser
{
    /// <returns>The time, or null with <paramref name="error"/> saying why the text is not one.</returns>
    public static DateTimeOffset? Parse(string text, DateTimeOffset now, out string? error)
    {
        error = null;
        var duration = Duration().Match(text);
        if (duration.Success)
        {
            var amount = double.Parse(duration.Groups["amount"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            var unit = duration.Groups["unit"].Value switch
            {
                "s" => TimeSpan.FromSeconds(1),
                "m" => TimeSpan.FromMinutes(1),
                "h" => TimeSpan.FromHours(1),
                _ => TimeSpan.FromDays(1),
            };
            var back = amount * unit.TotalMilliseconds;
            // Further back than the calendar goes means everything.
            return back >= (now - DateTimeOffset.UnixEpoch).TotalMilliseconds ? DateTimeOffset.UnixEpoch : now - TimeSpan.FromMilliseconds(back);
        }

        if (IsoTime().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        error = $"--since '{text}' is neither a duration (90s, 15m, 2h, 1d) nor an ISO-8601 time (2025-06-01T14:30:00Z)";
        return null;
    }

    /// <returns>null when the text is a duration or a time, else why not.</returns>
    public static string? Validate(string text)
    {
        Parse(text, DateTimeOffset.UnixEpoch, out var error);
        return error;
    }

    [GeneratedRegex(@"^(?<amount>\d{1,9}(\.\d{1,9})?)(?<unit>[smhd])$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();
}

/// <summary>
/// The argument of <c>orders dlq show</c>: <c>PARTITION:OFFSET</c>, or a bare <c>OFFSET</c> that the
/// reader resolves only when a single partition holds that offset.
/// </summary>
public readonly record struct LetterAddress(int? Partition, long Offset)
{
    /// <returns>The address, or null with <paramref name="error"/> saying why the text is not one.</returns>
    public static LetterAddress? Parse(string text, out string? error)
    {
        error = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var offsetText = colon < 0 ? text : text[(colon + 1)..];
        int? partition = null;
        if (colon >= 0)
        {
            if (!int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                error = $"'{text}' is not OFFSET or PARTITION:OFFSET: bad partition '{text[..colon]}'";
                return null;
            }

            partition = p;
        }

        if (!long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            error = $"'{text}' is not OFFSET or PARTITION:OFFSET: bad offset '{offsetText}'";
            return null;
        }

        return new LetterAddress(partition, offset);
    }

    public override string ToString() => Partition is { } p ? string.Create(CultureInfo.InvariantCulture, $"{p}:{Offset}") : Offset.ToString(CultureInfo.InvariantCulture);
}
