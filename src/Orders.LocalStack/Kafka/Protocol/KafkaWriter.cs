using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Orders.LocalStack.Kafka.Protocol;

/// <summary>Writes Kafka's primitive types into a growing buffer; used for the few responses the relay builds itself.</summary>
internal sealed class KafkaWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void WriteInt8(sbyte value) => Span(1)[0] = (byte)value;

    public void WriteBoolean(bool value) => Span(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Span(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Span(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Span(8), value);

    public void WriteUuid(Guid value) => value.TryWriteBytes(Span(16), bigEndian: true, out _);

    public void WriteUnsignedVarint(uint value)
    {
        while (value >= 0x80)
        {
            Span(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }

        Span(1)[0] = (byte)value;
    }

    public void WriteString(string value, bool compact) => WriteNullableString(value, compact);

    public void WriteNullableString(string? value, bool compact)
    {
        if (value is null)
        {
            if (compact)
            {
                WriteUnsignedVarint(0);
            }
            else
            {
                WriteInt16(-1);
            }

            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        if (compact)
        {
            WriteUnsignedVarint((uint)length + 1);
        }
        else
        {
            WriteInt16(checked((short)length));
        }

        Encoding.UTF8.GetBytes(value, Span(length));
    }

    /// <summary>ARRAY or COMPACT_ARRAY length; -1 writes a null array.</summary>
    public void WriteArrayLength(int count, bool compact)
    {
        if (compact)
        {
            WriteUnsignedVarint((uint)(count + 1));
        }
        else
        {
            WriteInt32(count);
        }
    }

    public void WriteEmptyTaggedFields() => Span(1)[0] = 0;

    /// <summary>In flexible versions every structure ends with its tagged fields; this code never sends any.</summary>
    public void EndStruct(bool flexible)
    {
        if (flexible)
        {
            WriteEmptyTaggedFields();
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Span(bytes.Length));

    /// <summary>Starts a response frame: its size (patched by <see cref="ToFrame"/>) and response header.</summary>
    public static KafkaWriter Response(int correlationId, bool flexibleHeader)
    {
        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteInt32(correlationId);
        if (flexibleHeader)
        {
            writer.WriteEmptyTaggedFields();
        }

        return writer;
    }

    /// <summary>The finished frame, its size prefix set.</summary>
    public byte[] ToFrame()
    {
        var frame = _buffer.WrittenSpan.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        return frame;
    }

    private Span<byte> Span(int count)
    {
        var span = _buffer.GetSpan(count)[..count];
        _buffer.Advance(count);
        return span;
    }
}
