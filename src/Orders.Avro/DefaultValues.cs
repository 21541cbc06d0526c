using System.Text.Json;

namespace Orders.Avro;

/// <summary>Whether a JSON default value fits its schema, as Avro Java's <c>Schema.isValidDefault</c> decides.</summary>
internal static class DefaultValues
{
    public static bool IsValid(AvroSchema schema, JsonElement value) => IsValid(schema, value, depth: 0);

    private static bool IsValid(AvroSchema schema, JsonElement value, int depth)
    {
        if (depth > 64)
        {
            return false;
        }

        return schema switch
        {
            { Type: AvroType.Null } => value.ValueKind == JsonValueKind.Null,
            { Type: AvroType.Boolean } => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            { Type: AvroType.Int } => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _),
            { Type: AvroType.Long } => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            { Type: AvroType.Float or AvroType.Double } => value.ValueKind == JsonValueKind.Number
                || (value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity"),
            { Type: AvroType.Bytes or AvroType.String } => value.ValueKind == JsonValueKind.String,
            FixedSchema => value.ValueKind == JsonValueKind.String,
            EnumSchema e => value.ValueKind == JsonValueKind.String && e.IndexOf(value.GetString()!) >= 0,
            ArraySchema a => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => IsValid(a.Items, v, depth + 1)),
            MapSchema m => value.ValueKind == JsonValueKind.Object && value.EnumerateObject().All(p => IsValid(m.Values, p.Value, depth + 1)),
            RecordSchema r => value.ValueKind == JsonValueKind.Object && r.Fields.All(f =>
                value.TryGetProperty(f.Name, out var v) ? IsValid(f.Schema, v, depth + 1) : f.HasDefault),
            // Avro 1.12 accepts a union default that matches any branch (earlier versions: the first).
            UnionSchema u => u.Branches.Any(b => IsValid(b, value, depth + 1)),
            _ => false,
        };
    }
}
