using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Orders.SchemaRegistry.Storage;

namespace Orders.SchemaRegistry.Http;

/// <summary>Strict reading of request bodies: size, media type, JSON shape and field types.</summary>
internal static class RequestBodies
{
    public const int MaxBodyBytes = 1024 * 1024;

    private static readonly HashSet<string> AcceptedMediaTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    };

    // Fields Confluent clients send with a schema; only the schema itself matters here.
    private static readonly HashSet<string> SchemaRequestFields = ["schema", "schemaType", "references", "metadata", "ruleSet", "id", "version", "normalize"];

    private static readonly HashSet<string> ConfigRequestFields =
    [
        "compatibility", "compatibilityLevel", "alias", "normalize", "compatibilityGroup", "defaultMetadata",
        "overrideMetadata", "defaultRuleSet", "overrideRuleSet", "validateFields", "validateRules",
    ];

    public static async Task<string> ReadSchemaAsync(HttpRequest request, CancellationToken cancellationToken) =>
        (await ReadRegistrationAsync(request, cancellationToken)).Schema;

    /// <returns>The schema, and the schema id the body asks for (null when it asks for none).</returns>
    public static async Task<(string Schema, int? Id)> ReadRegistrationAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var document = await ReadJsonObjectAsync(request, cancellationToken);
        var root = document.RootElement;
        RejectUnknownFields(root, SchemaRequestFields);

        if (root.TryGetProperty("schemaType", out var type) && type.ValueKind != JsonValueKind.Null)
        {
            if (type.ValueKind != JsonValueKind.String)
            {
                throw WrongType("schemaType", "a string", type);
            }

            var typeName = StringOrNull(type) ?? throw UnpairedSurrogate("schemaType");
            if (!string.Equals(typeName, "AVRO", StringComparison.Ordinal))
            {
                throw RegistryException.InvalidSchema($"schema type '{typeName}' is not supported; this registry serves AVRO only");
            }
        }

        if (root.TryGetProperty("references", out var references) && references.ValueKind != JsonValueKind.Null)
        {
            if (references.ValueKind != JsonValueKind.Array)
            {
                throw WrongType("references", "an array", references);
            }

            if (references.GetArrayLength() > 0)
            {
                throw RegistryException.InvalidSchema("schema references are not supported by this registry");
            }
        }

        foreach (var name in new[] { "metadata", "ruleSet" })
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Object))
            {
                throw WrongType(name, "an object", value);
            }
        }

        foreach (var name in new[] { "id", "version" })
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _)))
            {
                throw WrongType(name, "an integer", value);
            }
        }

        if (!root.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
        {
            throw RegistryException.InvalidSchema("the request has no \"schema\" field");
        }

        if (schema.ValueKind != JsonValueKind.String)
        {
            throw WrongType("schema", "a string holding the schema's JSON", schema);
        }

        // Valid JSON, but no string holds it: the schema text is not text.
        var text = StringOrNull(schema) ?? throw RegistryException.InvalidSchema("the schema string holds an unpaired surrogate escape (e.g. \\ud800 alone)");
        return (text, root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt32() : null);
    }

    /// <returns>The compatibility level text, as sent.</returns>
    public static async Task<string> ReadCompatibilityAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var document = await ReadJsonObjectAsync(request, cancellationToken);
        var root = document.RootElement;
        RejectUnknownFields(root, ConfigRequestFields);
        if (!root.TryGetProperty("compatibility", out var level) && !root.TryGetProperty("compatibilityLevel", out level))
        {
            throw RegistryException.Unprocessable("the request has no \"compatibility\" field");
        }

        if (level.ValueKind != JsonValueKind.String)
        {
            throw WrongType("compatibility", "a string", level);
        }

        return StringOrNull(level) ?? throw UnpairedSurrogate("compatibility");
    }

    private static async Task<JsonDocument> ReadJsonObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType is { Length: > 0 } contentType)
        {
            var mediaType = contentType.Split(';', 2)[0].Trim();
            if (!AcceptedMediaTypes.Contains(mediaType))
            {
                throw new RegistryException(415, 415, $"Unsupported media type '{mediaType}': send application/vnd.schemaregistry.v1+json or application/json.");
            }
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }

        // Read in chunks and stop one byte past the limit, whatever Content-Length said (or did not say).
        using var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                body.Write(chunk, 0, read);
                if (body.Length > MaxBodyBytes)
                {
                    throw TooLarge();
                }
            }
        }
        catch (IOException e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports some broken framing (a chunk size that overflows) as a plain IOException.
            throw RegistryException.BadRequest($"The request body could not be read: {e.Message}");
        }

        var length = (int)body.Length;
        if (length == 0)
        {
            throw RegistryException.BadRequest("The request body is empty; a JSON object is required.");
        }

        // System.Text.Json checks the grammar, not the encoding: it would fail later, reading a string.
        if (!Utf8.IsValid(body.GetBuffer().AsSpan(0, length)))
        {
            throw RegistryException.BadRequest("Malformed JSON: the body is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            // The document keeps using the stream's array, which outlives the stream object.
            document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw RegistryException.BadRequest($"Malformed JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw RegistryException.Unprocessable($"The request body must be a JSON object, not {kind.ToString().ToLowerInvariant()}.");
        }

        return document;
    }

    private static void RejectUnknownFields(JsonElement root, HashSet<string> known)
    {
        foreach (var property in root.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                throw UnpairedSurrogate("a property name");
            }

            if (!known.Contains(name))
            {
                throw RegistryException.Unprocessable($"Unrecognized field: {name}");
            }
        }
    }

    /// <returns>The string, or null when it escapes an unpaired surrogate (<c>"\ud800"</c>), which JSON allows and no string can hold.</returns>
    private static string? StringOrNull(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static RegistryException UnpairedSurrogate(string where) =>
        RegistryException.BadRequest($"Malformed JSON: {where} holds an unpaired surrogate escape.");

    private static RegistryException WrongType(string field, string expected, JsonElement actual) =>
        RegistryException.Unprocessable($"Field \"{field}\" must be {expected}, not {actual.ValueKind.ToString().ToLowerInvariant()}.");

    private static RegistryException TooLarge() =>
        new(413, 413, $"The request body is larger than {MaxBodyBytes} bytes.");
}
