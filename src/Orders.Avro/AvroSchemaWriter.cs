using System.Text;
using System.Text.Json;

namespace Orders.Avro;

/// <summary>
/// Writes a schema as compact JSON in one fixed layout (the layout of Avro Java's
/// <c>Schema.toString()</c>): whitespace, attribute order and redundant namespaces no longer
/// distinguish two schemas, while every attribute that matters (defaults, aliases, doc,
/// logical types) is kept. The registry uses this form for schema identity.
/// </summary>
public static class AvroSchemaWriter
{
    public static string Write(AvroSchema schema)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            Write(writer, schema, "", new HashSet<string>(StringComparer.Ordinal));
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, AvroSchema schema, string enclosingNamespace, HashSet<string> written)
    {
        switch (schema)
        {
            case PrimitiveSchema p when p.Properties.Count == 0:
                writer.WriteStringValue(TypeName(p.Type));
                break;
            case PrimitiveSchema p:
                writer.WriteStartObject();
                writer.WriteString("type", TypeName(p.Type));
                WriteProperties(writer, p.Properties);
                writer.WriteEndObject();
                break;
            case NamedSchema n when !written.Add(n.FullName):
                writer.WriteStringValue(n.Namespace == enclosingNamespace ? n.Name : n.FullName);
                break;
            case RecordSchema r:
                writer.WriteStartObject();
                writer.WriteString("type", r.IsError ? "error" : "record");
                WriteName(writer, r, enclosingNamespace);
                writer.WriteStartArray("fields");
                foreach (var field in r.Fields)
                {
                    WriteField(writer, field, r.Namespace, written);
                }

                writer.WriteEndArray();
                WriteAliases(writer, r);
                WriteProperties(writer, r.Properties);
                writer.WriteEndObject();
                break;
            case EnumSchema e:
                writer.WriteStartObject();
                writer.WriteString("type", "enum");
                WriteName(writer, e, enclosingNamespace);
                writer.WriteStartArray("symbols");
                foreach (var symbol in e.Symbols)
                {
                    writer.WriteStringValue(symbol);
                }

                writer.WriteEndArray();
                if (e.Default is not null)
                {
                    writer.WriteString("default", e.Default);
                }

                WriteAliases(writer, e);
                WriteProperties(writer, e.Properties);
                writer.WriteEndObject();
                break;
            case FixedSchema f:
                writer.WriteStartObject();
                writer.WriteString("type", "fixed");
                WriteName(writer, f, enclosingNamespace);
                writer.WriteNumber("size", f.Size);
                WriteAliases(writer, f);
                WriteProperties(writer, f.Properties);
                writer.WriteEndObject();
                break;
            case ArraySchema a:
                writer.WriteStartObject();
                writer.WriteString("type", "array");
                writer.WritePropertyName("items");
                Write(writer, a.Items, enclosingNamespace, written);
                WriteProperties(writer, a.Properties);
                writer.WriteEndObject();
                break;
            case MapSchema m:
                writer.WriteStartObject();
                writer.WriteString("type", "map");
                writer.WritePropertyName("values");
                Write(writer, m.Values, enclosingNamespace, written);
                WriteProperties(writer, m.Properties);
                writer.WriteEndObject();
                break;
            case UnionSchema u:
                writer.WriteStartArray();
                foreach (var branch in u.Branches)
                {
                    Write(writer, branch, enclosingNamespace, written);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"Unexpected schema type {schema.GetType().Name}.");
        }
    }

    private static void WriteName(Utf8JsonWriter writer, NamedSchema schema, string enclosingNamespace)
    {
        writer.WriteString("name", schema.Name);
        if (schema.Namespace != enclosingNamespace)
        {
            writer.WriteString("namespace", schema.Namespace);
        }

        if (schema.Doc is not null)
        {
            writer.WriteString("doc", schema.Doc);
        }
    }

    private static void WriteField(Utf8JsonWriter writer, AvroField field, string space, HashSet<string> written)
    {
        writer.WriteStartObject();
        writer.WriteString("name", field.Name);
        writer.WritePropertyName("type");
        Write(writer, field.Schema, space, written);
        if (field.Doc is not null)
        {
            writer.WriteString("doc", field.Doc);
        }

        if (field.DefaultValue is { } d)
        {
            writer.WritePropertyName("default");
            d.WriteTo(writer);
        }

        if (field.Order != FieldOrder.Ascending)
        {
            writer.WriteString("order", field.Order.ToString().ToLowerInvariant());
        }

        if (field.Aliases.Count > 0)
        {
            writer.WriteStartArray("aliases");
            foreach (var alias in field.Aliases)
            {
                writer.WriteStringValue(alias);
            }

            writer.WriteEndArray();
        }

        WriteProperties(writer, field.Properties);
        writer.WriteEndObject();
    }

    private static void WriteAliases(Utf8JsonWriter writer, NamedSchema schema)
    {
        if (schema.Aliases.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("aliases");
        foreach (var alias in schema.Aliases)
        {
            // Aliases are stored qualified; write them relative to the schema's own namespace.
            var dot = alias.LastIndexOf('.');
            var relative = dot >= 0 && alias[..dot] == schema.Namespace;
            writer.WriteStringValue(relative ? alias[(dot + 1)..] : alias);
        }

        writer.WriteEndArray();
    }

    private static void WriteProperties(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, JsonElement>> properties)
    {
        foreach (var (key, value) in properties)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }
    }

    internal static string TypeName(AvroType type) => type switch
    {
        AvroType.Null => "null",
        AvroType.Boolean => "boolean",
        AvroType.Int => "int",
        AvroType.Long => "long",
        AvroType.Float => "float",
        AvroType.Double => "double",
        AvroType.Bytes => "bytes",
        AvroType.String => "string",
        AvroType.Record => "record",
        AvroType.Enum => "enum",
        AvroType.Array => "array",
        AvroType.Map => "map",
        AvroType.Union => "union",
        AvroType.Fixed => "fixed",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
