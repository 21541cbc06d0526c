using System.Globalization;
using System.Text;
using Avro;
using Orders.Contracts;
using Orders.Decoding;

namespace Orders.DeadLetters;

/// <summary>A dead letter's value as an order, or why it is not one.</summary>
/// <param name="Invalid">For an order that decodes, the domain rule it breaks, if any.</param>
public sealed record DecodedValue(IReadOnlyList<KeyValuePair<string, object?>>? Order, string? Error, string? Invalid);

/// <summary>Turns a dead letter's bytes into something a person can read.</summary>
public static class LetterContent
{
    /// <summary>Decodes the value as the processor would (Confluent wire format, writer schema from the registry).</summary>
    /// <param name="writtenAt">When the original record was written, when known: the validator's rule on <c>createdAt</c> needs it.</param>
    public static async Task<DecodedValue> DecodeAsync(OrderDecoder decoder, byte[]? value, DateTimeOffset? writtenAt = null)
    {
        Order order;
        try
        {
            order = await decoder.DecodeAsync(value);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever the decoder throws, the letter is still shown: as bytes, with the reason.
            return new DecodedValue(null, e.Message, null);
        }

        return new DecodedValue(Fields(order), null, OrderValidator.Validate(order, writtenAt?.ToUnixTimeMilliseconds()));
    }

    /// <summary>The order's fields by their schema names, in schema order.</summary>
    public static IReadOnlyList<KeyValuePair<string, object?>> Fields(Order order) =>
        ((RecordSchema)order.Schema).Fields
            .Select(f => new KeyValuePair<string, object?>(f.Name, order.Get(f.Pos) switch
            {
                DateTime time => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                var other => other,
            }))
            .ToList();

    /// <summary>The classic layout: offset, 16 bytes in hex, the same bytes as ASCII ('.' where not printable).</summary>
    public static string HexDump(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        for (var line = 0; line < bytes.Length; line += 16)
        {
            var chunk = bytes.Slice(line, Math.Min(16, bytes.Length - line));
            text.Append(CultureInfo.InvariantCulture, $"{line:x8}  ");
            for (var i = 0; i < 16; i++)
            {
                text.Append(i < chunk.Length ? chunk[i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ");
                if (i == 7)
                {
                    text.Append(' ');
                }
            }

            text.Append(" |");
            foreach (var b in chunk)
            {
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            text.Append('|').Append('\n');
        }

        return text.ToString();
    }
}
