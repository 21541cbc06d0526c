using System.Text.Json;

namespace Orders.Avro;

/// <summary>Default values judged against their schema.</summary>
public static partial class AvroSchemaParser
{
    /// <summary>
    /// Whether a default value fits its schema, deciding exactly as <see cref="DefaultValues"/>
    /// (Avro Java's <c>Schema.isValidDefault</c>), in time linear in the value: each JSON array or
    /// object is judged once per (schema, depth), and symbols and fields are looked up hashed.
    /// Without that, a union of records tries each branch on the same nested objects, a number
    /// of tries exponential in their depth (two branches, 60 levels: 2^60).
    /// </summary>
    private sealed class DefaultValidator(SchemaWorkBudget? budget)
    {
        // The depth DefaultValues allows: a deeper value is invalid.
        private const int MaxDepth = 64;

        private readonly Dictionary<(AvroSchema Schema, Node Value, int Depth), bool> _decided = [];
        private readonly Dictionary<RecordSchema, int> _requiredFields = [];

        public bool IsValid(AvroSchema schema, JsonElement value) => IsValid(schema, Node.Of(value), 0);

        private bool IsValid(AvroSchema schema, Node value, int depth)
        {
            if (depth > MaxDepth)
            {
                return false;
            }

            budget?.Spend(1);
            if (value.Element.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                return Decide(schema, value, depth);
            }

            if (!_decided.TryGetValue((schema, value, depth), out var valid))
            {
                valid = Decide(schema, value, depth);
                _decided[(schema, value, depth)] = valid;
            }

            return valid;
        }

        private bool Decide(AvroSchema schema, Node value, int depth)
        {
            var element = value.Element;
            return schema switch
            {
                { Type: AvroType.Null } => element.ValueKind == JsonValueKind.Null,
                { Type: AvroType.Boolean } => element.ValueKind is JsonValueKind.True or JsonValueKind.False,
                { Type: AvroType.Int } => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out _),
                { Type: AvroType.Long } => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out _),
                { Type: AvroType.Float or AvroType.Double } => element.ValueKind == JsonValueKind.Number
                    || (element.ValueKind == JsonValueKind.String && element.GetString() is "NaN" or "Infinity" or "-Infinity"),
                { Type: AvroType.Bytes or AvroType.String } => element.ValueKind == JsonValueKind.String,
                FixedSchema => element.ValueKind == JsonValueKind.String,
                EnumSchema e => element.ValueKind == JsonValueKind.String && e.HasSymbol(element.GetString()!),
                ArraySchema a => element.ValueKind == JsonValueKind.Array && value.Children!.All(v => IsValid(a.Items, v, depth + 1)),
                MapSchema m => element.ValueKind == JsonValueKind.Object && value.Children!.All(v => IsValid(m.Values, v, depth + 1)),
                RecordSchema r => element.ValueKind == JsonValueKind.Object && FitsRecord(r, value, depth),
                // Avro 1.12 accepts a union default that matches any branch (earlier versions: the first).
                UnionSchema u => u.Branches.Any(b => IsValid(b, value, depth + 1)),
                _ => false,
            };
        }

        /// <summary>Every field the object names is valid, and every field it omits has a default.</summary>
        private bool FitsRecord(RecordSchema record, Node value, int depth)
        {
            var given = 0;
            foreach (var (name, child) in value.LastByName!)
            {
                // Names that are not fields are ignored, as Avro Java ignores them.
                if (record.GetField(name) is not { } field)
                {
                    continue;
                }

                if (!IsValid(field.Schema, child, depth + 1))
                {
                    return false;
                }

                given += field.HasDefault ? 0 : 1;
            }

            if (!_requiredFields.TryGetValue(record, out var required))
            {
                required = record.Fields.Count(f => !f.HasDefault);
                _requiredFields[record] = required;
            }

            return given == required;
        }

        /// <summary>A JSON value with an identity, so that a decision about it can be remembered.</summary>
        private sealed class Node
        {
            private Node(JsonElement element) => Element = element;

            public JsonElement Element { get; }

            /// <summary>An array's items, or an object's values (repeated names included, as maps check them all).</summary>
            public List<Node>? Children { get; private init; }

            /// <summary>An object's values by name, the last of a repeated name winning, as <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> finds it.</summary>
            public Dictionary<string, Node>? LastByName { get; private init; }

            public static Node Of(JsonElement element)
            {
                switch (element.ValueKind)
                {
                    case JsonValueKind.Array:
                        return new Node(element) { Children = [.. element.EnumerateArray().Select(Of)] };
                    case JsonValueKind.Object:
                        var children = new List<Node>();
                        var byName = new Dictionary<string, Node>(StringComparer.Ordinal);
                        foreach (var property in element.EnumerateObject())
                        {
                            var child = Of(property.Value);
                            children.Add(child);
                            byName[property.Name] = child;
                        }

                        return new Node(element) { Children = children, LastByName = byName };
                    default:
                        return new Node(element);
                }
            }
        }
    }
}
