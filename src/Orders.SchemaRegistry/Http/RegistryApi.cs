using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orders.SchemaRegistry.Compatibility;
using Orders.SchemaRegistry.Storage;

namespace Orders.SchemaRegistry.Http;

/// <summary>The Confluent Schema Registry REST API (the subset Avro clients use), over a <see cref="SchemaStore"/>.</summary>
public static class RegistryApi
{
    public const string ContentType = "application/vnd.schemaregistry.v1+json";

    // Schemas are JSON inside JSON: keep their quotes readable rather than \u0022-escaped.
    private static readonly JsonSerializerOptions ResponseJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void MapRegistryApi(this IEndpointRouteBuilder app, SchemaStore store)
    {
        app.MapGet("/", () => Json(new Dictionary<string, object>()));

        // Confluent clients 2.14+ ask for topic associations first; 404 makes them fall back to topic naming.
        app.MapGet("/associations/resources/{resourceNamespace}/{resource}", () =>
            Error(404, 40401, "Associations are not supported by this registry."));

        app.MapGet("/schemas/types", () => Json(new[] { "AVRO" }));

        app.MapGet("/schemas/ids/{id}", (string id) =>
            Json(new Dictionary<string, object> { ["schema"] = store.GetSchemaById(ParseId(id)) }));

        app.MapGet("/schemas/ids/{id}/schema", (string id) => Raw(store.GetSchemaById(ParseId(id))));

        app.MapGet("/schemas/ids/{id}/versions", (string id, HttpRequest request) =>
            Json(store.GetSubjectVersionsById(ParseId(id), Flag(request, "deleted"))
                .Select(sv => new Dictionary<string, object> { ["subject"] = sv.Subject, ["version"] = sv.Version })));

        app.MapGet("/schemas/ids/{id}/subjects", (string id, HttpRequest request) =>
            Json(store.GetSubjectVersionsById(ParseId(id), Flag(request, "deleted")).Select(sv => sv.Subject).Distinct()));

        app.MapGet("/subjects", (HttpRequest request) =>
            Json(store.GetSubjects(Flag(request, "deleted"), request.Query["subjectPrefix"].FirstOrDefault())));

        app.MapPost("/subjects/{subject}", async (string subject, HttpRequest request, CancellationToken ct) =>
        {
            var deleted = Flag(request, "deleted");
            Flag(request, "normalize");
            var schema = await RequestBodies.ReadSchemaAsync(request, ct);
            return Json(VersionBody(store.Lookup(subject, schema, deleted, ct)));
        });

        app.MapDelete("/subjects/{subject}", (string subject, HttpRequest request) =>
            Json(store.DeleteSubject(subject, Flag(request, "permanent"))));

        app.MapGet("/subjects/{subject}/versions", (string subject, HttpRequest request) =>
            Json(store.GetVersions(subject, Flag(request, "deleted"))));

        app.MapPost("/subjects/{subject}/versions", async (string subject, HttpRequest request, CancellationToken ct) =>
        {
            Flag(request, "normalize");
            var (schema, id) = await RequestBodies.ReadRegistrationAsync(request, ct);
            if (id >= 0)
            {
                // As Confluent's: an id of the client's choosing is for IMPORT mode only (migrations), which this registry does not have.
                throw RegistryException.NotInImportMode(subject);
            }

            var registered = store.Register(subject, schema, ct);
            return Json(new Dictionary<string, object> { ["id"] = registered.Id });
        });

        app.MapGet("/subjects/{subject}/versions/{version}", (string subject, string version, HttpRequest request) =>
            Json(VersionBody(store.GetVersion(subject, version, Flag(request, "deleted")))));

        app.MapGet("/subjects/{subject}/versions/{version}/schema", (string subject, string version, HttpRequest request) =>
            Raw(store.GetVersion(subject, version, Flag(request, "deleted")).Schema));

        app.MapGet("/subjects/{subject}/versions/{version}/referencedby", (string subject, string version) =>
        {
            // Soft-deleted versions too, as Confluent's getReferencedBy looks them up.
            store.GetVersion(subject, version, includeDeleted: true);
            return Json(Array.Empty<int>());
        });

        app.MapDelete("/subjects/{subject}/versions/{version}", (string subject, string version, HttpRequest request) =>
            Json(store.DeleteVersion(subject, version, Flag(request, "permanent"))));

        app.MapPost("/compatibility/subjects/{subject}/versions/{version}", (string subject, string version, HttpRequest request, CancellationToken ct) =>
            TestCompatibility(store, subject, version, request, ct));

        app.MapPost("/compatibility/subjects/{subject}/versions", (string subject, HttpRequest request, CancellationToken ct) =>
            TestCompatibility(store, subject, null, request, ct));

        app.MapGet("/config", () => Json(new Dictionary<string, object> { ["compatibilityLevel"] = store.GetGlobalLevel().ToWireName() }));

        app.MapPut("/config", async (HttpRequest request, CancellationToken ct) =>
        {
            var level = ParseLevel(await RequestBodies.ReadCompatibilityAsync(request, ct));
            store.SetGlobalLevel(level);
            return Json(new Dictionary<string, object> { ["compatibility"] = level.ToWireName() });
        });

        app.MapGet("/config/{subject}", (string subject, HttpRequest request) =>
            Json(new Dictionary<string, object> { ["compatibilityLevel"] = store.GetSubjectLevel(subject, Flag(request, "defaultToGlobal")).ToWireName() }));

        app.MapPut("/config/{subject}", async (string subject, HttpRequest request, CancellationToken ct) =>
        {
            var level = ParseLevel(await RequestBodies.ReadCompatibilityAsync(request, ct));
            store.SetSubjectLevel(subject, level);
            return Json(new Dictionary<string, object> { ["compatibility"] = level.ToWireName() });
        });

        app.MapDelete("/config/{subject}", (string subject) =>
            Json(new Dictionary<string, object> { ["compatibilityLevel"] = store.DeleteSubjectLevel(subject).ToWireName() }));

        app.MapGet("/mode", () => Json(new Dictionary<string, object> { ["mode"] = "READWRITE" }));
        // No subject has a mode of its own here: Confluent answers 40409 unless asked for the global one instead.
        app.MapGet("/mode/{subject}", (string subject, HttpRequest request) => Flag(request, "defaultToGlobal")
            ? Json(new Dictionary<string, object> { ["mode"] = "READWRITE" })
            : throw RegistryException.SubjectLevelModeNotConfigured(subject));
    }

    private static async Task<IResult> TestCompatibility(SchemaStore store, string subject, string? version, HttpRequest request, CancellationToken ct)
    {
        var verbose = Flag(request, "verbose");
        Flag(request, "normalize");
        var schema = await RequestBodies.ReadSchemaAsync(request, ct);
        var messages = store.TestCompatibility(subject, version, schema, ct);
        var body = new Dictionary<string, object> { ["is_compatible"] = messages.Count == 0 };
        if (verbose)
        {
            body["messages"] = messages;
        }

        return Json(body);
    }

    private static Dictionary<string, object> VersionBody(SubjectVersion sv) => new()
    {
        ["subject"] = sv.Subject,
        ["version"] = sv.Version,
        ["id"] = sv.Id,
        ["schema"] = sv.Schema,
    };

    private static CompatibilityLevel ParseLevel(string text) =>
        CompatibilityLevels.TryParse(text, out var level) ? level : throw RegistryException.InvalidCompatibilityLevel(text);

    private static int ParseId(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw RegistryException.SchemaNotFound($"'{id}' is not a schema id (ids are positive integers)");

    /// <summary>A boolean query parameter; clients send True/False as often as true/false.</summary>
    private static bool Flag(HttpRequest request, string name)
    {
        var text = request.Query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw RegistryException.BadRequest($"Query parameter '{name}' must be true or false, not '{text}'.");
    }

    internal static IResult Json<T>(T body) => Results.Text(JsonSerializer.Serialize(body, ResponseJson), ContentType, statusCode: 200);

    private static IResult Raw(string schema) => Results.Text(schema, ContentType, statusCode: 200);

    internal static IResult Error(int status, int errorCode, string message) =>
        Results.Text(ErrorJson(errorCode, message), ContentType, statusCode: status);

    internal static string ErrorJson(int errorCode, string message) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["error_code"] = errorCode, ["message"] = message }, ResponseJson);
}
