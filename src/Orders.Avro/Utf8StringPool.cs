using System.Buffers.Binary;
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
/// <remarks>
/// A value of up to <see cref="PackedBytes"/> bytes (nearly every value the pool sees) is packed
/// into two words and its length, which identify it: the lookup compares those three numbers held
/// in the entry, with no hash function and no byte comparison. A longer one is hashed (XXH3) and
/// compared byte for byte with the copy its entry keeps.
/// </remarks>
public sealed class Utf8StringPool
{
    public const int MaxBytes = 64;

    public const int ReplaceEvery = 8;

    /// <summary>The longest value compared as two packed words rather than byte by byte.</summary>
    public const int PackedBytes = 16;

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

        ulong low, high;
        if (utf8.Length <= PackedBytes)
        {
            (low, high) = Pack(utf8);
        }
        else
        {
            // Unseeded is safe here: values crafted to collide only miss, they cannot pile up.
            (low, high) = (XxHash3.HashToUInt64(utf8), 0);
        }

        var slot = SlotOf(low, high, utf8.Length);
        var entry = Volatile.Read(ref _slots[slot]);
        if (entry is not null && entry.Low == low && entry.High == high && entry.Length == utf8.Length && (entry.Utf8 is null || utf8.SequenceEqual(entry.Utf8)))
        {
            return entry.Value;
        }

        var value = Encoding.UTF8.GetString(utf8);
        if (entry is null || ++_collisions % ReplaceEvery == 0)
        {
            Volatile.Write(ref _slots[slot], new Entry(low, high, utf8.Length, value, utf8.Length <= PackedBytes ? null : utf8.ToArray()));
        }

        return value;
    }

    /// <summary>
    /// 1 to 16 bytes as two words that, with the length, give back every byte: read from the start
    /// and, overlapping, from the end (for 1 to 3 bytes, the first, the middle and the last).
    /// </summary>
    private static (ulong Low, ulong High) Pack(ReadOnlySpan<byte> utf8)
    {
        var length = utf8.Length;
        if (length >= 8)
        {
            return (BinaryPrimitives.ReadUInt64LittleEndian(utf8), BinaryPrimitives.ReadUInt64LittleEndian(utf8[(length - 8)..]));
        }

        if (length >= 4)
        {
            return (BinaryPrimitives.ReadUInt32LittleEndian(utf8), BinaryPrimitives.ReadUInt32LittleEndian(utf8[(length - 4)..]));
        }

        return ((ulong)utf8[0] | ((ulong)utf8[length / 2] << 8) | ((ulong)utf8[length - 1] << 16), 0);
    }

    private int SlotOf(ulong low, ulong high, int length)
    {
        var mixed = ((low ^ (ulong)length) * 0x9E3779B97F4A7C15UL) ^ (high * 0xC2B2AE3D27D4EB4FUL);
        return (int)(mixed ^ (mixed >> 29) ^ (mixed >> 47)) & _mask;
    }

    /// <param name="Utf8">The bytes of a value longer than <see cref="PackedBytes"/> (null for a packed one: its words are its bytes).</param>
    private sealed record Entry(ulong Low, ulong High, int Length, string Value, byte[]? Utf8);
}
