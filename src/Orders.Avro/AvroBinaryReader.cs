using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Orders.Avro;

/// <summary>Avro binary data that does not decode: truncated, malformed varints, lengths or indexes out of range.</summary>
public sealed class AvroDecodeException(string message) : Exception(message);

/// <summary>
/// Reads Avro's binary encoding from a span, with every length, index and varint checked against
/// the data, so that hostile bytes end in an <see cref="AvroDecodeException"/>, never in a huge
/// allocation, an endless loop or a stack overflow.
/// </summary>
public ref struct AvroBinaryReader(ReadOnlySpan<byte> data)
{
    /// <summary>How deeply records may nest (recursive schemas) before the data is taken as hostile.</summary>
    public const int MaxDepth = 64;

    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;
    private int _depth;

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    /// <remarks>
    /// A varint of one byte (a length or a count below 64, a small int) is read inline by the caller;
    /// a longer one by <see cref="ReadLongVarint"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadLong()
    {
        var position = _position;
        if ((uint)position < (uint)_data.Length && _data[position] is var b and < 0x80)
        {
            _position = position + 1;
            return (b >> 1) ^ -(b & 1);
        }

        return ReadLongVarint();
    }

    private long ReadLongVarint()
    {
        var data = _data;
        var position = _position;
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            if ((uint)position >= (uint)data.Length)
            {
                throw Truncated();
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                break;
            }

            shift += 7;
            if (shift > 63)
            {
                throw new AvroDecodeException($"varint longer than 10 bytes at byte {_position}");
            }
        }

        _position = position;
        return (long)(result >> 1) ^ -(long)(result & 1);
    }

    public int ReadInt()
    {
        var value = ReadLong();
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new AvroDecodeException($"int out of range: {value}");
    }

    public bool ReadBoolean()
    {
        var b = ReadRaw(1)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new AvroDecodeException($"not a boolean: byte 0x{b:x2}"),
        };
    }

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(ReadRaw(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadRaw(8));

    /// <summary>A length-prefixed byte sequence (bytes or string), as a slice of the data.</summary>
    public ReadOnlySpan<byte> ReadBytes() => ReadRaw(ReadLength());

    /// <summary>Invalid UTF-8 becomes U+FFFD, as Avro Java and Apache.Avro decode it.</summary>
    public string ReadString()
    {
        var bytes = ReadBytes();
        return bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A union branch or enum symbol index, checked against the number of choices.</summary>
    public int ReadIndex(int count, string what)
    {
        var index = ReadLong();
        return (ulong)index < (ulong)count
            ? (int)index
            : throw new AvroDecodeException($"{what} index {index} out of range (0 to {count - 1})");
    }

    public ReadOnlySpan<byte> ReadFixed(int size) => ReadRaw(size);

    public void Skip(long count)
    {
        if (count < 0 || count > Remaining)
        {
            throw Truncated();
        }

        _position += (int)count;
    }

    /// <summary>Enters a nested record; <see cref="Leave"/> undoes it.</summary>
    public void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw new AvroDecodeException($"records nested deeper than {MaxDepth} levels");
        }
    }

    public void Leave() => _depth--;

    private int ReadLength()
    {
        var length = ReadLong();
        if (length < 0)
        {
            throw new AvroDecodeException($"negative length {length}");
        }

        return length <= Remaining ? (int)length : throw Truncated();
    }

    private ReadOnlySpan<byte> ReadRaw(int count)
    {
        if ((uint)count > (uint)Remaining)
        {
            throw Truncated();
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private readonly AvroDecodeException Truncated() =>
        new($"data ends early: {_data.Length} bytes, reading at byte {_position}");
}
