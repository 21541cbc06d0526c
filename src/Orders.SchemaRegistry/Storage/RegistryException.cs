namespace Orders.SchemaRegistry.Storage;

/// <summary>A request the registry refuses, with Confluent's HTTP status and error code.</summary>
public sealed class RegistryException(int httpStatus, int errorCode, string message) : Exception(message)
{
    public int HttpStatus { get; } = httpStatus;
    public int ErrorCode { get; } = errorCode;

    public static RegistryException SubjectNotFound(string subject) => new(404, 40401, $"Subject '{subject}' not found.");
    public static RegistryException VersionNotFound(string subject, string version) => new(404, 40402, $"Version {version} not found for subject '{subject}'.");
    public static RegistryException SchemaNotFound(string detail) => new(404, 40403, $"Schema not found: {detail}.");
    public static RegistryException SubjectSoftDeleted(string subject) => new(404, 40404, $"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently.");
    public static RegistryException SubjectNotSoftDeleted(string subject) => new(404, 40405, $"Subject '{subject}' was not deleted first before being permanently deleted.");
    public static RegistryException VersionSoftDeleted(string subject, int version) => new(404, 40406, $"Version {version} of subject '{subject}' was soft deleted. Set permanent=true to delete permanently.");
    public static RegistryException VersionNotSoftDeleted(string subject, int version) => new(404, 40407, $"Version {version} of subject '{subject}' was not deleted first before being permanently deleted.");
    public static RegistryException SubjectLevelCompatibilityNotConfigured(string subject) => new(404, 40408, $"Subject '{subject}' does not have subject-level compatibility configured.");
    public static RegistryException SubjectLevelModeNotConfigured(string subject) => new(404, 40409, $"Subject '{subject}' does not have subject-level mode configured.");
    public static RegistryException NotInImportMode(string subject) =>
        new(422, 42205, $"Subject {subject} is not in import mode: a schema id is chosen by the registry (this one is always in READWRITE mode), not by the request.");

    public static RegistryException InvalidSubject(string subject) => new(422, 42208, $"The specified subject '{subject}' is not a valid.");
    public static RegistryException Incompatible(string subject, IEnumerable<string> details) =>
        new(409, 409, $"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{string.Join(", ", details)}]");
    public static RegistryException InvalidSchema(string reason) => new(422, 42201, $"Invalid schema: {reason}");

    // Confluent has no code for a valid schema too intricate to judge; "invalid schema" is what a client can act on.
    public static RegistryException TooComplex(string reason) => new(422, 42201, $"Invalid schema: too complex to judge: {reason}");
    public static RegistryException InvalidVersion(string version) =>
        new(422, 42202, $"The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    public static RegistryException InvalidCompatibilityLevel(string level) =>
        new(422, 42203, $"Invalid compatibility level '{level}'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
    public static RegistryException Unprocessable(string message) => new(422, 422, message);
    public static RegistryException BadRequest(string message) => new(400, 400, message);
}
