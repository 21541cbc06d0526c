using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orders.Avro;

/// <summary>Thrown for a schema that is not valid Avro; the message says what and where.</summary>
public sealed class AvroSchemaException(string message) : Exception(message);

/// <summary>
/// Parses Avro schema JSON as the specification defines it, with the checks Avro Java applies
/// (names, duplicates, defaults valid for their type, enum defaults among the symbols).
/// </summary>
/// <remarks>
/// Written here rather than taken from Apache.Avro because the registry needs what that library
/// does not expose or check: named types' aliases (for compatibility), default-value validation,
/// and a writer that keeps every attribute for a stable canonical form.
/// </remarks>
public static partial class AvroSchemaParser
{
    private static readonly Dictionary<string, AvroType> Primitives = new(StringComparer.Ordinal)
    {
        ["null"] = AvroType.Null,
        ["boolean"] = AvroType.Boolean,
        ["int"] = AvroType.Int,
        ["long"] = AvroType.Long,
        ["float"] = AvroType.Float,
        ["double"] = AvroType.Double,
        ["bytes"] = AvroType.Bytes,
        ["string"] = AvroType.String,
    };

    private static readonly HashSet<string> RecordKeys = ["type", "name", "namespace", "doc", "aliases", "fields"];
    private static readonly HashSet<string> EnumKeys = ["type", "name", "namespace", "doc", "aliases", "symbols", "default"];
    private static readonly HashSet<string> FixedKeys = ["type", "name", "namespace", "doc", "aliases", "size"];
    private static readonly HashSet<string> FieldKeys = ["name", "type", "doc", "default", "order", "aliases"];
    private static readonly HashSet<string> ArrayKeys = ["type", "items"];
    private static readonly HashSet<string> MapKeys = ["type", "values"];
    private static readonly HashSet<string> PrimitiveKeys = ["type"];

    // \z, not $: $ also matches before a final newline, which would let "A\n" pass as a name.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex NameRegex();

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    // Throws instead of substituting U+FFFD, so that a schema is never silently changed.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static AvroSchema Parse(string json) => Parse(json, budget: null);

    /// <param name="budget">Bounds the validation of default values (see <see cref="SchemaWorkBudget"/>); null for unbounded.</param>
    /// <exception cref="AvroSchemaException">The schema is not valid Avro, or not valid JSON.</exception>
    /// <exception cref="SchemaTooComplexException">The budget was spent.</exception>
    public static AvroSchema Parse(string json, SchemaWorkBudget? budget)
    {
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(json);
        }
        catch (EncoderFallbackException)
        {
            throw new AvroSchemaException("Invalid JSON: the text holds an unpaired surrogate character");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new AvroSchemaException($"Invalid JSON: {e.Message}");
        }

        using (document)
        {
            RejectUnpairedSurrogateEscapes(utf8);

            // Clone so that defaults and properties outlive the document.
            var root = document.RootElement.Clone();
            return new Context(budget).Parse(root, "", "");
        }
    }

    public static bool TryParse(string json, out AvroSchema? schema, out string? error)
    {
        try
        {
            schema = Parse(json);
            error = null;
            return true;
        }
        catch (AvroSchemaException e)
        {
            schema = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// JSON allows <c>"\ud800"</c>, which no string can decode to; System.Text.Json throws when
    /// asked for such a string. Refusing it here, once, keeps every later read safe.
    /// </summary>
    private static void RejectUnpairedSurrogateEscapes(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                try
                {
                    _ = reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new AvroSchemaException($"Invalid JSON: the string at byte {reader.TokenStartIndex} holds an unpaired surrogate escape");
                }
            }
        }
    }

    private sealed class Context(SchemaWorkBudget? budget)
    {
        private readonly Dictionary<string, NamedSchema> _names = new(StringComparer.Ordinal);
        private readonly DefaultValidator _defaults = new(budget);

        public AvroSchema Parse(JsonElement element, string enclosingNamespace, string path) =>
            element.ValueKind switch
            {
                JsonValueKind.String => Resolve(element.GetString()!, enclosingNamespace, path),
                JsonValueKind.Array => ParseUnion(element, enclosingNamespace, path),
                JsonValueKind.Object => ParseObject(element, enclosingNamespace, path),
                _ => throw Error(path, $"a schema must be a JSON string, object or array, not {Describe(element)}"),
            };

        private AvroSchema Resolve(string name, string enclosingNamespace, string path)
        {
            if (Primitives.TryGetValue(name, out var primitive))
            {
                return new PrimitiveSchema(primitive, []);
            }

            if (!name.Contains('.') && enclosingNamespace.Length > 0
                && _names.TryGetValue($"{enclosingNamespace}.{name}", out var inNamespace))
            {
                return inNamespace;
            }

            if (_names.TryGetValue(name, out var named))
            {
                return named;
            }

            throw Error(path, $"undefined name: \"{name}\"");
        }

        private UnionSchema ParseUnion(JsonElement element, string enclosingNamespace, string path)
        {
            var branches = new List<AvroSchema>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var branchPath = $"{path}[{index++}]";
                var branch = Parse(item, enclosingNamespace, branchPath);
                if (branch is UnionSchema)
                {
                    throw Error(branchPath, "unions may not immediately contain other unions");
                }

                var key = branch is NamedSchema n ? n.FullName : branch.Type.ToString();
                if (!seen.Add(key))
                {
                    throw Error(branchPath, $"duplicate type in union: {key.ToLowerInvariant()}");
                }

                branches.Add(branch);
            }

            return new UnionSchema(branches);
        }

        private AvroSchema ParseObject(JsonElement element, string enclosingNamespace, string path)
        {
            if (!element.TryGetProperty("type", out var typeElement))
            {
                throw Error(path, "no \"type\" attribute");
            }

            // A schema object's "type" is a name, as Avro Java reads it (getRequiredText: {"type": {...}} is
            // "No type"); a field's "type" may be any schema, and is parsed as one elsewhere.
            if (typeElement.ValueKind != JsonValueKind.String)
            {
                throw Error(path, $"\"type\" must be a string, not {Describe(typeElement)}");
            }

            var type = typeElement.GetString()!;
            switch (type)
            {
                case "record" or "error":
                    return ParseRecord(element, enclosingNamespace, path, type == "error");
                case "enum":
                    return ParseEnum(element, enclosingNamespace, path);
                case "fixed":
                    return ParseFixed(element, enclosingNamespace, path);
                case "array":
                    return new ArraySchema(
                        Parse(Required(element, "items", path), enclosingNamespace, $"{path}.items"),
                        ExtraProperties(element, ArrayKeys));
                case "map":
                    return new MapSchema(
                        Parse(Required(element, "values", path), enclosingNamespace, $"{path}.values"),
                        ExtraProperties(element, MapKeys));
                default:
                    if (Primitives.TryGetValue(type, out var primitive))
                    {
                        return new PrimitiveSchema(primitive, ExtraProperties(element, PrimitiveKeys));
                    }

                    // {"type": "com.example.Named"} refers to a type defined earlier.
                    return Resolve(type, enclosingNamespace, path);
            }
        }

        private RecordSchema ParseRecord(JsonElement element, string enclosingNamespace, string path, bool isError)
        {
            var fullName = FullName(element, enclosingNamespace, path);
            var space = NamespaceOf(fullName);
            var record = new RecordSchema(
                fullName, OptionalString(element, "doc", path), Aliases(element, space, path), isError, ExtraProperties(element, RecordKeys));
            Define(record, path);

            var fieldsElement = Required(element, "fields", path);
            if (fieldsElement.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, $"\"fields\" must be an array, not {Describe(fieldsElement)}");
            }

            var fields = new List<AvroField>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var fieldElement in fieldsElement.EnumerateArray())
            {
                var fieldPath = $"{path}.fields[{index++}]";
                var field = ParseField(fieldElement, space, fieldPath);
                if (!names.Add(field.Name))
                {
                    throw Error(fieldPath, $"duplicate field name \"{field.Name}\" in record {fullName}");
                }

                fields.Add(field);
            }

            record.SetFields(fields);
            return record;
        }

        private AvroField ParseField(JsonElement element, string space, string path)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, $"a field must be a JSON object, not {Describe(element)}");
            }

            var name = RequiredString(element, "name", path);
            ValidateName(name, path);
            var schema = Parse(Required(element, "type", path), space, $"{path}.type");

            JsonElement? defaultValue = null;
            if (element.TryGetProperty("default", out var d))
            {
                if (!_defaults.IsValid(schema, d))
                {
                    throw Error(path, $"invalid default for field \"{name}\": {d.GetRawText()} is not a valid {Describe(schema)}");
                }

                defaultValue = d;
            }

            var order = FieldOrder.Ascending;
            if (element.TryGetProperty("order", out var o))
            {
                order = o.ValueKind == JsonValueKind.String ? o.GetString() switch
                {
                    "ascending" => FieldOrder.Ascending,
                    "descending" => FieldOrder.Descending,
                    "ignore" => FieldOrder.Ignore,
                    _ => throw Error(path, $"invalid order {o.GetRawText()}: use ascending, descending or ignore"),
                } : throw Error(path, $"\"order\" must be a string, not {Describe(o)}");
            }

            var aliases = StringArray(element, "aliases", path);
            foreach (var alias in aliases)
            {
                ValidateName(alias, path);
            }

            return new AvroField(name, schema, OptionalString(element, "doc", path), defaultValue, order, aliases, ExtraProperties(element, FieldKeys));
        }

        private EnumSchema ParseEnum(JsonElement element, string enclosingNamespace, string path)
        {
            var fullName = FullName(element, enclosingNamespace, path);
            var symbolsElement = Required(element, "symbols", path);
            if (symbolsElement.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, $"\"symbols\" must be an array, not {Describe(symbolsElement)}");
            }

            var symbols = new List<string>();
            var distinct = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in symbolsElement.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.String)
                {
                    throw Error(path, $"enum symbols must be strings, not {Describe(s)}");
                }

                var symbol = s.GetString()!;
                ValidateName(symbol, path);
                if (!distinct.Add(symbol))
                {
                    throw Error(path, $"duplicate enum symbol \"{symbol}\"");
                }

                symbols.Add(symbol);
            }

            var defaultSymbol = OptionalString(element, "default", path);
            if (defaultSymbol is not null && !distinct.Contains(defaultSymbol))
            {
                throw Error(path, $"enum default \"{defaultSymbol}\" is not one of the symbols");
            }

            var schema = new EnumSchema(
                fullName, OptionalString(element, "doc", path), Aliases(element, NamespaceOf(fullName), path), symbols, defaultSymbol, ExtraProperties(element, EnumKeys));
            Define(schema, path);
            return schema;
        }

        private FixedSchema ParseFixed(JsonElement element, string enclosingNamespace, string path)
        {
            var fullName = FullName(element, enclosingNamespace, path);
            var sizeElement = Required(element, "size", path);
            if (sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt32(out var size) || size < 0)
            {
                throw Error(path, $"\"size\" must be a non-negative integer, not {sizeElement.GetRawText()}");
            }

            var schema = new FixedSchema(
                fullName, OptionalString(element, "doc", path), Aliases(element, NamespaceOf(fullName), path), size, ExtraProperties(element, FixedKeys));
            Define(schema, path);
            return schema;
        }

        private void Define(NamedSchema schema, string path)
        {
            if (Primitives.ContainsKey(schema.FullName))
            {
                throw Error(path, $"\"{schema.FullName}\" is a primitive type and cannot be redefined");
            }

            if (!_names.TryAdd(schema.FullName, schema))
            {
                throw Error(path, $"can't redefine: {schema.FullName}");
            }
        }

        private static string FullName(JsonElement element, string enclosingNamespace, string path)
        {
            var name = RequiredString(element, "name", path);
            string fullName;
            if (name.Contains('.'))
            {
                fullName = name;
            }
            else
            {
                var space = element.TryGetProperty("namespace", out var ns) && ns.ValueKind != JsonValueKind.Null
                    ? ns.ValueKind == JsonValueKind.String ? ns.GetString()! : throw Error(path, $"\"namespace\" must be a string, not {Describe(ns)}")
                    : enclosingNamespace;
                fullName = space.Length > 0 ? $"{space}.{name}" : name;
            }

            ValidateFullName(fullName, path);
            return fullName;
        }

        private static List<string> Aliases(JsonElement element, string space, string path)
        {
            var aliases = StringArray(element, "aliases", path);
            for (var i = 0; i < aliases.Count; i++)
            {
                if (!aliases[i].Contains('.') && space.Length > 0)
                {
                    aliases[i] = $"{space}.{aliases[i]}";
                }

                ValidateFullName(aliases[i], path);
            }

            return aliases;
        }

        private static string NamespaceOf(string fullName) =>
            fullName.LastIndexOf('.') is var i and >= 0 ? fullName[..i] : "";

        private static void ValidateFullName(string fullName, string path)
        {
            foreach (var part in fullName.Split('.'))
            {
                if (!NameRegex().IsMatch(part))
                {
                    throw Error(path, $"invalid name \"{fullName}\": each part must match [A-Za-z_][A-Za-z0-9_]*");
                }
            }
        }

        private static void ValidateName(string name, string path)
        {
            if (!NameRegex().IsMatch(name))
            {
                throw Error(path, $"invalid name \"{name}\": must match [A-Za-z_][A-Za-z0-9_]*");
            }
        }
    }
}
