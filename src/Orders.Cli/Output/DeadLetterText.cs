using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orders.DeadLetters;

namespace Orders.Cli.Output;

/// <summary>How <c>orders dlq</c> shows dead letters and replays: tables and lines for people, one JSON document for tools.</summary>
internal static class DeadLetterText
{
    // A decoded order's price may be NaN or infinite: exactly the orders that are dead-lettered as invalid.
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string ListText(string topic, int total, DeadLetterFilter filter, IReadOnlyList<DeadLetter> letters, DateTimeOffset now)
    {
        var conditions = new List<string>();
        if (filter.Reason is { } reason)
        {
            conditions.Add($"reason {reason}");
        }

        if (filter.Since is { } since)
        {
            conditions.Add($"since {Iso(since)}");
        }

        var lines = new List<string>
        {
            $"{topic}: {letters.Count} of {total} dead letter(s)" + (conditions.Count > 0 ? $" ({string.Join(", ", conditions)})" : ""),
        };
        if (letters.Count > 0)
        {
            var rows = letters.Select(l => (
                Letter: $"{l.Position.Partition}:{l.Position.Offset}",
                Age: Age(now - l.FailedAt),
                Reason: TerminalText.Printable(l.Reason ?? "?") + (l.Truncated is null ? "" : " (truncated)"),
                Original: l.Original?.ToString() ?? "?",
                // A letter with no readable origin says why beside its error (ORIGINAL shows "?").
                Error: OneLine(l.Problem is null ? l.ErrorMessage ?? "" : l.ErrorMessage is null ? l.Problem : $"{l.ErrorMessage} (no origin: {l.Problem})"))).ToList();
            var widths = (
                Letter: Math.Max(6, rows.Max(r => r.Letter.Length)),
                Age: Math.Max(3, rows.Max(r => r.Age.Length)),
                Reason: Math.Max(6, rows.Max(r => r.Reason.Length)),
                Original: Math.Max(8, rows.Max(r => r.Original.Length)));
            lines.Add($"{"LETTER".PadRight(widths.Letter)}  {"AGE".PadRight(widths.Age)}  {"REASON".PadRight(widths.Reason)}  {"ORIGINAL".PadRight(widths.Original)}  ERROR");
            lines.AddRange(rows.Select(r => $"{r.Letter.PadRight(widths.Letter)}  {r.Age.PadRight(widths.Age)}  {r.Reason.PadRight(widths.Reason)}  {r.Original.PadRight(widths.Original)}  {r.Error}"));
        }

        return string.Join(Environment.NewLine, lines);
    }

    public static string ListJson(string topic, string sourceTopic, int total, DeadLetterFilter filter, IReadOnlyList<DeadLetter> letters, DateTimeOffset now) =>
        JsonSerializer.Serialize(
            new Dictionary<string, object?>
            {
                ["topic"] = topic,
                ["sourceTopic"] = sourceTopic,
                ["total"] = total,
                ["count"] = letters.Count,
                ["filter"] = new Dictionary<string, object?> { ["reason"] = filter.Reason, ["since"] = filter.Since is { } s ? Iso(s) : null },
                ["letters"] = letters.Select(l => Summary(l, now)).ToList(),
            },
            JsonOptions);

    private static Dictionary<string, object?> Summary(DeadLetter letter, DateTimeOffset now) => new()
    {
        ["letter"] = letter.Position.ToString(),
        ["partition"] = letter.Position.Partition,
        ["offset"] = letter.Position.Offset,
        ["reason"] = letter.Reason,
        ["errorType"] = letter.ErrorType,
        ["error"] = letter.ErrorMessage,
        ["original"] = Original(letter),
        ["problem"] = letter.Problem,
        ["truncated"] = letter.Truncated,
        ["consumerGroup"] = letter.ConsumerGroup,
        ["attempts"] = letter.Attempts,
        ["failedAt"] = Iso(letter.FailedAt),
        // As in the text: a letter whose clock is ahead of ours is 0 s old, not a negative age (failedAt says when).
        ["ageSeconds"] = Math.Max(0, Math.Round((now - letter.FailedAt).TotalSeconds, 3)),
    };

    private static Dictionary<string, object?>? Original(DeadLetter letter) => letter.Original is { } o
        ? new()
        {
            ["topic"] = o.Topic,
            ["partition"] = o.Partition,
            ["offset"] = o.Offset,
            ["timestamp"] = letter.OriginalTimestamp is { } t ? Iso(t) : null,
        }
        : null;

    public static string ShowText(DeadLetter letter, DecodedValue decoded)
    {
        var lines = new List<string>
        {
            $"Dead letter {letter.Position} ({letter.Position.Partition}:{letter.Position.Offset}), written {Iso(letter.Timestamp)}",
            $"key: {(letter.Key is null ? "(null)" : TerminalText.Printable(RecordHeader.Decode(letter.Key) ?? "hex " + Convert.ToHexString(letter.Key)))}",
            $"headers ({letter.Headers.Count}):",
        };
        var width = letter.Headers.Count == 0 ? 0 : letter.Headers.Max(h => TerminalText.Printable(h.Key).Length);
        foreach (var header in letter.Headers)
        {
            var value = header.Value is null ? "(null)" : TerminalText.Printable(header.Text ?? "hex " + Convert.ToHexString(header.Value), keepLineEnds: true);
            // Stack traces span lines: indent the continuation under the value.
            lines.Add($"  {TerminalText.Printable(header.Key).PadRight(width)}  {value.ReplaceLineEndings(Environment.NewLine + new string(' ', width + 4))}");
        }

        if (decoded.Order is { } order)
        {
            lines.Add("order (decoded through the registry):");
            var fieldWidth = order.Max(f => f.Key.Length);
            lines.AddRange(order.Select(f => $"  {f.Key.PadRight(fieldWidth)}  {Format(f.Value)}"));
            if (decoded.Invalid is { } invalid)
            {
                lines.Add($"  (breaks a rule: {TerminalText.Printable(invalid)})");
            }
        }
        else
        {
            lines.Add($"value: {letter.Value?.Length ?? 0} byte(s), not an order ({TerminalText.Printable(decoded.Error ?? "")}):");
            lines.Add(letter.Value is null ? "  (null)" : LetterContent.HexDump(letter.Value).TrimEnd('\n'));
        }

        return string.Join(Environment.NewLine, lines);
    }

    public static string ShowJson(DeadLetter letter, DecodedValue decoded)
    {
        var document = new Dictionary<string, object?>
        {
            ["letter"] = letter.Position.ToString(),
            ["topic"] = letter.Position.Topic,
            ["partition"] = letter.Position.Partition,
            ["offset"] = letter.Position.Offset,
            ["timestamp"] = Iso(letter.Timestamp),
            ["key"] = letter.Key is null ? null : RecordHeader.Decode(letter.Key),
            ["keyHex"] = letter.Key is null ? null : Convert.ToHexString(letter.Key),
            ["headers"] = letter.Headers.Select(h => new Dictionary<string, object?>
            {
                ["key"] = h.Key,
                ["value"] = h.Text,
                ["hex"] = h.Value is not null && h.Text is null ? Convert.ToHexString(h.Value) : null,
            }).ToList(),
            ["reason"] = letter.Reason,
            ["original"] = Original(letter),
            ["problem"] = letter.Problem,
            ["truncated"] = letter.Truncated,
            ["failedAt"] = Iso(letter.FailedAt),
            ["order"] = decoded.Order?.ToDictionary(f => f.Key, f => f.Value),
            ["invalid"] = decoded.Invalid,
            ["decodeError"] = decoded.Error,
            ["valueLength"] = letter.Value?.Length,
            ["valueHex"] = letter.Value is null ? null : Convert.ToHexString(letter.Value),
        };
        return JsonSerializer.Serialize(document, JsonOptions);
    }

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Format(object? value) => value switch
    {
        null => "(null)",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => TerminalText.Printable(value.ToString() ?? ""),
    };

    private static string OneLine(string text)
    {
        var line = TerminalText.Printable(text.ReplaceLineEndings(" "));
        return line.Length <= 100 ? line : line[..97] + "...";
    }

    /// <summary>The two largest units: 45s, 3m12s, 2h05m, 3d04h.</summary>
    public static string Age(TimeSpan age)
    {
        if (age < TimeSpan.Zero)
        {
            // The letter's clock is ahead of ours.
            return "0s";
        }

        return age.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d{age.Hours:00}h")
            : age.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours}h{age.Minutes:00}m")
            : age.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalMinutes}m{age.Seconds:00}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalSeconds}s");
    }
}
