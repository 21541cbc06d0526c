using System.Globalization;

namespace Orders.DeadLetters;

/// <summary>
/// Where a record sits, written <c>topic/partition@offset</c> (<c>orders_dlq/3@1234</c>): the form of
/// the <c>dlq.replayed.from</c> and <c>dlq.replayed.origin</c> headers. Topic names cannot contain
/// '/' or '@', so the text parses back unambiguously.
/// </summary>
public readonly record struct RecordPosition(string Topic, int Partition, long Offset)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Topic}/{Partition}@{Offset}");

    public static bool TryParse(string? text, out RecordPosition position)
    {
        position = default;
        if (text is null)
        {
            return false;
        }

        var at = text.LastIndexOf('@');
        var slash = at < 0 ? -1 : text.LastIndexOf('/', at);
        if (slash <= 0
            || !int.TryParse(text.AsSpan(slash + 1, at - slash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || !long.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return false;
        }

        position = new RecordPosition(text[..slash], partition, offset);
        return true;
    }
}
