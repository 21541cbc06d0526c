using System.Text.Json;

namespace Orders.Avro;

/// <summary>Reading the schema's JSON: required and optional attributes, and errors that say where.</summary>
public static partial class AvroSchemaParser
{
    private static JsonElement Required(JsonElement element, string key, string path) =>
        element.TryGetProperty(key, out var value) ? value : throw Error(path, $"missing required attribute \"{key}\"");

    private static string RequiredString(JsonElement element, string key, string path)
    {
        var value = Required(element, key, path);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Error(path, $"\"{key}\" must be a string, not {Describe(value)}");
    }

    private static string? OptionalString(JsonElement element, string key, string path)
    {
        if (!element.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Error(path, $"\"{key}\" must be a string, not {Describe(value)}");
    }

    private static List<string> StringArray(JsonElement element, string key, string path)
    {
        var result = new List<string>();
        if (!element.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, $"\"{key}\" must be an array of strings, not {Describe(value)}");
        }

        foreach (var item in value.EnumerateArray())
        {
            result.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw Error(path, $"\"{key}\" must be an array of strings, found {Describe(item)}"));
        }

        return result;
    }

    private static List<KeyValuePair<string, JsonElement>> ExtraProperties(JsonElement element, IReadOnlySet<string> known) =>
        [.. element.EnumerateObject().Where(p => !known.Contains(p.Name)).Select(p => KeyValuePair.Create(p.Name, p.Value))];

    internal static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString(),
    };

    private static string Describe(AvroSchema schema) => schema switch
    {
        NamedSchema n => $"{schema.Type.ToString().ToLowerInvariant()} {n.FullName}",
        _ => schema.Type.ToString().ToLowerInvariant(),
    };

    private static AvroSchemaException Error(string path, string message) =>
        new(path.Length == 0 ? message : $"{message} (at {path})");
}
