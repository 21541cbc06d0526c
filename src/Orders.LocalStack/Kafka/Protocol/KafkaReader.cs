using System.Buffers.Binary;
using System.Text;

namespace Orders.LocalStack.Kafka.Protocol;

/// <summary>A frame or field the Kafka protocol does not allow: the connection that sent it is closed.</summary>
public sealed class KafkaProtocolException(string message) : Exception(message);

/// <summary>Reads Kafka's primitive types (big-endian, classic and compact) from a complete buffer.</summary>
internal ref struct KafkaReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public int Position { get; private set; }

    public readonly int Remaining => _buffer.Length - Position;

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public bool ReadBoolean() => Take(1)[0] != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUnsignedVarint()
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new KafkaProtocolException("an unsigned varint is longer than 5 bytes");
    }

    /// <summary>STRING (int16 length) or COMPACT_STRING (unsigned varint length + 1); null is not allowed.</summary>
    public string ReadString(bool compact) =>
        ReadNullableString(compact) ?? throw new KafkaProtocolException("a non-nullable string is null");

    public string? ReadNullableString(bool compact)
    {
        var length = compact ? (int)ReadUnsignedVarint() - 1 : ReadInt16();
        if (length < 0)
        {
            return length == -1 ? null : throw new KafkaProtocolException($"a string has length {length}");
        }

        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>ARRAY (int32 count) or COMPACT_ARRAY (unsigned varint count + 1); -1 for a null array.</summary>
    public int ReadArrayLength(bool compact)
    {
        var count = compact ? (long)ReadUnsignedVarint() - 1 : ReadInt32();
        if (count < -1)
        {
            throw new KafkaProtocolException($"an array has length {count}");
        }

        // Every element takes at least one byte: a larger count can only be garbage, and must not size an allocation.
        return count <= Remaining ? (int)count : throw new KafkaProtocolException($"an array claims {count} elements in {Remaining} bytes");
    }

    /// <summary>Skips a flexible version's tagged fields (none of which this code needs).</summary>
    public void SkipTaggedFields()
    {
        var count = ReadUnsignedVarint();
        for (var i = 0u; i < count; i++)
        {
            _ = ReadUnsignedVarint();
            var size = ReadUnsignedVarint();
            Skip(checked((int)size));
        }
    }

    public void Skip(int count) => Take(count);

    /// <summary>The next <paramref name="count"/> bytes, in place.</summary>
    public ReadOnlySpan<byte> ReadSpan(int count) => Take(count);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new KafkaProtocolException($"a field needs {count} bytes at offset {Position}, {Remaining} left");
        }

        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }
}
