using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Orders.Contracts;

namespace Orders.DeadLetters;

/// <summary>One header of a record, in the order the record carries them (a key may repeat).</summary>
public sealed record RecordHeader(string Key, byte[]? Value)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The value as text, or null when it is absent or not valid UTF-8.</summary>
    public string? Text => Decode(Value);

    public static string? Decode(byte[]? bytes)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}

/// <summary>
/// A record of a dead-letter topic with its diagnostics parsed (the headers of docs/DEAD-LETTERS.md).
/// Anything may end up in a dead-letter topic, so nothing here assumes the headers are present or
/// well formed: a letter whose origin cannot be read has <see cref="Original"/> null and says why in
/// <see cref="Problem"/>; it can be listed and shown, never replayed.
/// </summary>
public sealed class DeadLetter
{
    private DeadLetter(RecordPosition position, DateTimeOffset timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader> headers)
    {
        Position = position;
        Timestamp = timestamp;
        Key = key;
        Value = value;
        Headers = headers;
    }

    /// <summary>Where the letter sits in the dead-letter topic.</summary>
    public RecordPosition Position { get; }

    /// <summary>The dead-letter record's own timestamp.</summary>
    public DateTimeOffset Timestamp { get; }

    public byte[]? Key { get; }

    public byte[]? Value { get; }

    public IReadOnlyList<RecordHeader> Headers { get; }

    /// <summary>The record that failed, or null when the headers do not say (see <see cref="Problem"/>).</summary>
    public RecordPosition? Original { get; private init; }

    /// <summary>Why <see cref="Original"/> is null.</summary>
    public string? Problem { get; private init; }

    public string? Reason => Header(DeadLetterHeaders.Reason);

    public string? ErrorType => Header(DeadLetterHeaders.ErrorType);

    public string? ErrorMessage => Header(DeadLetterHeaders.ErrorMessage);

    public string? ConsumerGroup => Header(DeadLetterHeaders.ConsumerGroup);

    /// <summary>
    /// What was removed from a letter that had to be cut to fit the dead-letter topic (its value, at
    /// least), or null for a whole letter. A replay takes such a letter's record from its original.
    /// </summary>
    public string? Truncated => Header(DeadLetterHeaders.Truncated);

    public int? Attempts => int.TryParse(Header(DeadLetterHeaders.Attempts), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The original record's timestamp, when the headers carry it.</summary>
    public DateTimeOffset? OriginalTimestamp =>
        long.TryParse(Header(DeadLetterHeaders.OriginalTimestamp), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms) && IsTime(ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    private static bool IsTime(long unixMs) =>
        unixMs >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && unixMs <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>A record's timestamp; one no date can hold (a writer may set any 64-bit value) reads as the Unix epoch.</summary>
    internal static DateTimeOffset TimestampOf(long unixMs) => IsTime(unixMs) ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs) : DateTimeOffset.UnixEpoch;

    /// <summary>When the record was dead-lettered: <c>dlq.failed.at</c>, or the record's timestamp where that header is missing or bad.</summary>
    public DateTimeOffset FailedAt { get; private init; }

    /// <summary>The last value of a header as text (Kafka semantics: the last one wins), or null.</summary>
    public string? Header(string key) => LastText(Headers, key);

    /// <summary>
    /// The letter as a list or a report shows it, without what only a replay or <c>show</c> reads: no key,
    /// value or stack trace, and of the headers only the last of each that the summary names. A few hundred
    /// bytes instead of the record, so that a tool holding many letters holds their summaries.
    /// </summary>
    public DeadLetter Summary()
    {
        var kept = new List<RecordHeader>(SummaryHeaders.Length);
        foreach (var key in SummaryHeaders)
        {
            for (var i = Headers.Count - 1; i >= 0; i--)
            {
                if (Headers[i].Key == key)
                {
                    kept.Add(Headers[i]);
                    break;
                }
            }
        }

        return new DeadLetter(Position, Timestamp, null, null, kept) { Original = Original, Problem = Problem, FailedAt = FailedAt, IsSummary = true };
    }

    /// <summary>True for a <see cref="Summary"/>: its key, value and most headers were left out.</summary>
    public bool IsSummary { get; private init; }

    private static string? LastText(IReadOnlyList<RecordHeader> headers, string key)
    {
        for (var i = headers.Count - 1; i >= 0; i--)
        {
            if (headers[i].Key == key)
            {
                return headers[i].Text;
            }
        }

        return null;
    }

    // What Summary keeps: what a list or a replay's report reads (the origin is parsed already).
    private static readonly string[] SummaryHeaders =
    [
        DeadLetterHeaders.Reason, DeadLetterHeaders.ErrorType, DeadLetterHeaders.ErrorMessage, DeadLetterHeaders.ConsumerGroup,
        DeadLetterHeaders.Truncated, DeadLetterHeaders.Attempts, DeadLetterHeaders.OriginalTimestamp, DeadLetterHeaders.FailedAt,
    ];

    private static readonly string[] FailedAtFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK"];

    public static DeadLetter From(ConsumeResult<byte[]?, byte[]?> record) =>
        From(
            new RecordPosition(record.Topic, record.Partition.Value, record.Offset.Value),
            TimestampOf(record.Message.Timestamp.UnixTimestampMs),
            record.Message.Key,
            record.Message.Value,
            record.Message.Headers?.Select(h => new RecordHeader(h.Key, h.GetValueBytes())).ToList() ?? []);

    public static DeadLetter From(RecordPosition position, DateTimeOffset timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader> headers)
    {
        var (original, problem) = ParseOriginal(headers);
        // ISO 8601 with a date and a time, as the processor writes it; a lenient parse would take "10:00" for today.
        var failedAt = DateTimeOffset.TryParseExact(
            LastText(headers, DeadLetterHeaders.FailedAt), FailedAtFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : timestamp;
        return new DeadLetter(position, timestamp, key, value, headers) { Original = original, Problem = problem, FailedAt = failedAt };
    }

    private static (RecordPosition? Original, string? Problem) ParseOriginal(IReadOnlyList<RecordHeader> headers)
    {
        var topic = LastText(headers, DeadLetterHeaders.OriginalTopic);
        var partition = LastText(headers, DeadLetterHeaders.OriginalPartition);
        var offset = LastText(headers, DeadLetterHeaders.OriginalOffset);
        if (topic is null || partition is null || offset is null)
        {
            var missing = new[] { (DeadLetterHeaders.OriginalTopic, topic), (DeadLetterHeaders.OriginalPartition, partition), (DeadLetterHeaders.OriginalOffset, offset) }
                .Where(h => h.Item2 is null)
                .Select(h => h.Item1);
            return (null, $"no {string.Join(", ", missing)} header");
        }

        if (Topics.Validate(topic) is { } topicError)
        {
            return (null, $"{DeadLetterHeaders.OriginalTopic}: {topicError}");
        }

        if (!int.TryParse(partition, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
        {
            return (null, $"{DeadLetterHeaders.OriginalPartition} '{partition}' is not a partition number");
        }

        // The largest long is no record's offset: a replay looks for copies after it.
        if (!long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var o) || o == long.MaxValue)
        {
            return (null, $"{DeadLetterHeaders.OriginalOffset} '{offset}' is not an offset");
        }

        return (new RecordPosition(topic, p, o), null);
    }
}
