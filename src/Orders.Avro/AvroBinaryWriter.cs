using System.Buffers.Binary;
using System.Text;

namespace Orders.Avro;

/// <summary>
/// Writes Avro's binary encoding into a span the caller sized with the <c>SizeOf</c> methods,
/// byte for byte as Avro Java and Apache.Avro write it (zig-zag varints, little-endian floats,
/// UTF-8 strings with their byte length).
/// </summary>
public ref struct AvroBinaryWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;
    private int _position;

    public readonly int Position => _position;

    public void WriteLong(long value)
    {
        var encoded = (ulong)((value << 1) ^ (value >> 63));
        var destination = _destination;
        var position = _position;
        while (encoded >= 0x80)
        {
            destination[position++] = (byte)(encoded | 0x80);
            encoded >>= 7;
        }

        destination[position++] = (byte)encoded;
        _position = position;
    }

    public void WriteInt(int value) => WriteLong(value);

    public void WriteBoolean(bool value) => _destination[_position++] = value ? (byte)1 : (byte)0;

    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(_destination[_position..], value);
        _position += 4;
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_destination[_position..], value);
        _position += 8;
    }

    /// <param name="byteCount">The string's UTF-8 length, from <see cref="Utf8Length"/>.</param>
    public void WriteString(string value, int byteCount)
    {
        WriteLong(byteCount);
        _position += Encoding.UTF8.GetBytes(value, _destination.Slice(_position, byteCount));
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        WriteRaw(value);
    }

    public void WriteRaw(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_destination[_position..]);
        _position += value.Length;
    }

    public static int SizeOfLong(long value)
    {
        var encoded = (ulong)((value << 1) ^ (value >> 63));
        // 7 payload bits per byte; at least one byte.
        return ((63 - (int)ulong.LeadingZeroCount(encoded | 1)) / 7) + 1;
    }

    public static int SizeOfString(int byteCount) => SizeOfLong(byteCount) + byteCount;

    /// <summary>Unpaired surrogates count as U+FFFD, which is what <see cref="Encoding.UTF8"/> writes for them.</summary>
    public static int Utf8Length(string value) => Encoding.UTF8.GetByteCount(value);
}
