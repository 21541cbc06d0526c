using System.IO.Hashing;
using System.Text;

namespace Orders.Avro;

/// <summary>
/// Strings for UTF-8 values that repeat (product names, currencies, channels, customer ids): the
/// same bytes give the same string instance, made once, instead of a new string per record. A
/// fixed table of slots indexed by the bytes' hash. A value that finds its slot taken by another
/// is decoded as usual, never wrongly shared; one such miss in <see cref="ReplaceEvery"/> takes
/// the slot over, so values that repeat settle in, while a stream of values that never repeat
/// (ids) costs a hash and a comparison, not an extra entry per record. Values longer than
/// <see cref="MaxBytes"/> are not pooled. Thread-safe without locks: entries are immutable and
/// replaced whole.
/// </summary>
public sealed class Utf8StringPool
{
    public const int MaxBytes = 64;

    public const int ReplaceEvery = 8;

    private readonly Entry?[] _slots;
    private readonly int _mask;

    // Misses on a taken slot; racing increments only shift which miss replaces.
    private int _collisions;

    /// <param name="slots">A power of two; a few times the distinct values expected keeps collisions rare.</param>
    public Utf8StringPool(int slots = 2048)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slots), slots, "must be a positive power of two");
        }

        _slots = new Entry?[slots];
        _mask = slots - 1;
    }

    /// <summary>The string for <paramref name="utf8"/> (invalid UTF-8 becomes U+FFFD, as <see cref="Encoding.UTF8"/> decodes it).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return "";
        }

        if (utf8.Length > MaxBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        // XXH3: a few ns for these lengths, where HashCode.AddBytes made the pool a tenth of a record's
        // decoding. Unseeded is safe here: values crafted to collide only miss, they cannot pile up.
        var slot = (int)XxHash3.HashToUInt64(utf8) & _mask;
        var entry = Volatile.Read(ref _slots[slot]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Value;
        }

        var value = Encoding.UTF8.GetString(utf8);
        if (entry is null || ++_collisions % ReplaceEvery == 0)
        {
            Volatile.Write(ref _slots[slot], new Entry(utf8.ToArray(), value));
        }

        return value;
    }

    private sealed record Entry(byte[] Utf8, string Value);
}
