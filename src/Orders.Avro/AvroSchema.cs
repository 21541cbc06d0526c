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
    // Hashed because schemas come from untrusted clients: one type may carry tens of thousands of aliases.
    private readonly HashSet<string>? _aliasSet;

    private protected NamedSchema(
        AvroType type,
        string fullName,
        string? doc,
        IReadOnlyList<string> aliases,
        IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
        : base(type, properties)
    {
        FullName = fullName;
        Name = fullName[(fullName.LastIndexOf('.') + 1)..];
        Doc = doc;
        Aliases = aliases;
        _aliasSet = aliases.Count == 0 ? null : new HashSet<string>(aliases, StringComparer.Ordinal);
    }

    /// <summary>Namespace-qualified name, e.g. <c>com.example.Order</c>.</summary>
    public string FullName { get; }

    /// <summary>The unqualified name, which Avro Java uses when matching reader and writer.</summary>
    public string Name { get; }

    public string Namespace => FullName.LastIndexOf('.') is var i and >= 0 ? FullName[..i] : "";

    public string? Doc { get; }

    /// <summary>Fully qualified aliases.</summary>
    public IReadOnlyList<string> Aliases { get; }

    public bool HasAlias(string fullName) => _aliasSet?.Contains(fullName) == true;
}

public sealed class RecordSchema : NamedSchema
{
    private IReadOnlyList<AvroField> _fields = [];
    private Dictionary<string, AvroField> _fieldsByName = new(StringComparer.Ordinal);

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
    internal void SetFields(IReadOnlyList<AvroField> fields)
    {
        var byName = new Dictionary<string, AvroField>(fields.Count, StringComparer.Ordinal);
        foreach (var field in fields)
        {
            // The first of a name wins, as a linear search would find it; the parser rejects duplicates anyway.
            byName.TryAdd(field.Name, field);
        }

        _fields = fields;
        _fieldsByName = byName;
    }

    // Hashed: matching a reader record against a writer record looks up every reader field.
    public AvroField? GetField(string name) => _fieldsByName.GetValueOrDefault(name);
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
    // Hashed because an enum may have 100,000 symbols, and checks ask about each of another enum's symbols.
    private readonly Dictionary<string, int> _indexes;

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
        var indexes = new Dictionary<string, int>(symbols.Count, StringComparer.Ordinal);
        for (var i = 0; i < symbols.Count; i++)
        {
            indexes.TryAdd(symbols[i], i);
        }

        _indexes = indexes;
    }

    public IReadOnlyList<string> Symbols { get; }
    public string? Default { get; }

    /// <returns>The symbol's position, or -1 if it is not one of the symbols.</returns>
    public int IndexOf(string symbol) => _indexes.TryGetValue(symbol, out var index) ? index : -1;

    public bool HasSymbol(string symbol) => _indexes.ContainsKey(symbol);
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
    // Indexes so that finding the reader branches that may read a writer type does not scan every
    // branch: a union may hold thousands of named types, and a check asks once per writer branch.
    private readonly Dictionary<AvroType, int> _unnamedByType = [];
    private readonly Dictionary<string, List<int>> _namedByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _namedByAlias = new(StringComparer.Ordinal);

    internal UnionSchema(IReadOnlyList<AvroSchema> branches)
        : base(AvroType.Union, [])
    {
        Branches = branches;
        for (var i = 0; i < branches.Count; i++)
        {
            if (branches[i] is NamedSchema named)
            {
                Add(_namedByName, named.Name, i);
                foreach (var alias in named.Aliases)
                {
                    Add(_namedByAlias, alias, i);
                }
            }
            else
            {
                _unnamedByType.TryAdd(branches[i].Type, i);
            }
        }
    }

    public IReadOnlyList<AvroSchema> Branches { get; }

    /// <returns>The first branch of an unnamed type (primitive, array, map), or -1.</returns>
    internal int IndexOfUnnamed(AvroType type) => _unnamedByType.TryGetValue(type, out var index) ? index : -1;

    /// <returns>The named branches with this unqualified name, in branch order.</returns>
    internal IReadOnlyList<int> IndexesNamed(string name) => _namedByName.TryGetValue(name, out var list) ? list : [];

    /// <returns>The named branches with this full name among their aliases, in branch order.</returns>
    internal IReadOnlyList<int> IndexesAliased(string fullName) => _namedByAlias.TryGetValue(fullName, out var list) ? list : [];

    private static void Add(Dictionary<string, List<int>> index, string key, int branch)
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        // A branch listing one alias twice is indexed once.
        if (list.Count == 0 || list[^1] != branch)
        {
            list.Add(branch);
        }
    }
}
