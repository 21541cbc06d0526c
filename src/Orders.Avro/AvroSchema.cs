using System.Text.Json;

namespace Orders.Avro;

/// <summary>The Avro types, as the specification names them.</summary>
public enum AvroType
{
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record,
    Enum,
    Array,
    Map,
    Union,
    Fixed,
}

/// <summary>
/// A parsed, validated Avro schema. Immutable once <see cref="AvroSchemaParser"/> returns it;
/// records may be recursive, so the graph can contain cycles through named references.
/// </summary>
public abstract class AvroSchema
{
    private protected AvroSchema(AvroType type, IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
    {
        Type = type;
        Properties = properties;
    }

    public AvroType Type { get; }

    /// <summary>Attributes the specification does not define (logicalType, precision, custom ones), in source order.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonElement>> Properties { get; }

    public string? LogicalType =>
        Properties.FirstOrDefault(p => p.Key == "logicalType").Value is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>The schema as compact JSON, in the canonical layout used for identity.</summary>
    public override string ToString() => AvroSchemaWriter.Write(this);
}

public sealed class PrimitiveSchema : AvroSchema
{
    internal PrimitiveSchema(AvroType type, IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(type, properties)
    {
    }
}

public abstract class NamedSchema : AvroSchema
{
    private protected NamedSchema(
        AvroType type,
        string fullName,
        string? doc,
        IReadOnlyList<string> aliases,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(type, properties)
    {
        FullName = fullName;
        Doc = doc;
        Aliases = aliases;
    }

    /// <summary>Namespace-qualified name, e.g. <c>com.example.Order</c>.</summary>
    public string FullName { get; }

    /// <summary>The unqualified name, which Avro Java uses when matching reader and writer.</summary>
    public string Name => FullName[(FullName.LastIndexOf('.') + 1)..];

    public string Namespace => FullName.LastIndexOf('.') is var i and >= 0 ? FullName[..i] : "";

    public string? Doc { get; }

    /// <summary>Fully qualified aliases.</summary>
    public IReadOnlyList<string> Aliases { get; }
}

public sealed class RecordSchema : NamedSchema
{
    private IReadOnlyList<AvroField> _fields = [];

    internal RecordSchema(
        string fullName,
        string? doc,
        IReadOnlyList<string> aliases,
        bool isError,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(AvroType.Record, fullName, doc, aliases, properties)
    {
        IsError = isError;
    }

    public bool IsError { get; }

    public IReadOnlyList<AvroField> Fields => _fields;

    // Fields are attached after the record's name is registered, so that fields can refer to it.
    internal void SetFields(IReadOnlyList<AvroField> fields) => _fields = fields;

    public AvroField? GetField(string name) => _fields.FirstOrDefault(f => f.Name == name);
}

public enum FieldOrder
{
    Ascending,
    Descending,
    Ignore,
}

public sealed class AvroField
{
    internal AvroField(
        string name,
        AvroSchema schema,
        string? doc,
        JsonElement? defaultValue,
        FieldOrder order,
        IReadOnlyList<string> aliases,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
    {
        Name = name;
        Schema = schema;
        Doc = doc;
        DefaultValue = defaultValue;
        Order = order;
        Aliases = aliases;
        Properties = properties;
    }

    public string Name { get; }
    public AvroSchema Schema { get; }
    public string? Doc { get; }
    public JsonElement? DefaultValue { get; }
    public bool HasDefault => DefaultValue.HasValue;
    public FieldOrder Order { get; }
    public IReadOnlyList<string> Aliases { get; }
    public IReadOnlyList<KeyValuePair<string, JsonElement>> Properties { get; }
}

public sealed class EnumSchema : NamedSchema
{
    internal EnumSchema(
        string fullName,
        string? doc,
        IReadOnlyList<string> aliases,
        IReadOnlyList<string> symbols,
        string? defaultSymbol,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(AvroType.Enum, fullName, doc, aliases, properties)
    {
        Symbols = symbols;
        Default = defaultSymbol;
    }

    public IReadOnlyList<string> Symbols { get; }
    public string? Default { get; }
}

public sealed class FixedSchema : NamedSchema
{
    internal FixedSchema(
        string fullName,
        string? doc,
        IReadOnlyList<string> aliases,
        int size,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(AvroType.Fixed, fullName, doc, aliases, properties)
    {
        Size = size;
    }

    public int Size { get; }
}

public sealed class ArraySchema : AvroSchema
{
    internal ArraySchema(AvroSchema items, IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(AvroType.Array, properties) => Items = items;

    public AvroSchema Items { get; }
}

public sealed class MapSchema : AvroSchema
{
    internal MapSchema(AvroSchema values, IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(AvroType.Map, properties) => Values = values;

    public AvroSchema Values { get; }
}

public sealed class UnionSchema : AvroSchema
{
    internal UnionSchema(IReadOnlyList<AvroSchema> branches)
        : base(AvroType.Union, []) => Branches = branches;

    public IReadOnlyList<AvroSchema> Branches { get; }
}
