namespace Orders.Avro;

/// <summary>
/// Receives the fields of a record decoded by a <see cref="ResolvingReader"/>, already resolved to
/// the reader's schema: <c>field</c> is the reader field's index, and the value has the reader
/// field's type (for a reader union, the type of the branch the writer's value resolved to).
/// Implement it on a struct: <see cref="ResolvingReader.Read{TSink}"/> is then specialised for it,
/// with no boxing and no virtual calls.
/// </summary>
public interface IAvroFieldSink
{
    void Null(int field);

    void Boolean(int field, bool value);

    void Int(int field, int value);

    void Long(int field, long value);

    void Float(int field, float value);

    void Double(int field, double value);

    /// <summary>A string that came with a default (the writer did not have the field).</summary>
    void String(int field, string value);

    /// <summary>
    /// A string read from the data, as UTF-8 (only valid during the call): the sink decides how to
    /// make it a string (invalid UTF-8 becomes U+FFFD with <see cref="System.Text.Encoding.UTF8"/>),
    /// and may reuse one it made before for the same bytes.
    /// </summary>
    void Utf8String(int field, ReadOnlySpan<byte> value);

    /// <summary>Bytes and fixed values; the span is only valid during the call.</summary>
    void Bytes(int field, ReadOnlySpan<byte> value);

    /// <param name="symbol">The index of the symbol in the reader's enum.</param>
    void Enum(int field, int symbol);
}
