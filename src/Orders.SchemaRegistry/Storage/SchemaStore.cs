using System.Text.Json;
using System.Text.Json.Serialization;
using Orders.Avro;
using Orders.SchemaRegistry.Compatibility;

namespace Orders.SchemaRegistry.Storage;

public sealed record SubjectVersion(string Subject, int Version, int Id, string Schema);

/// <summary>
/// The registry's state: schemas with global ids, subjects with versions, and compatibility
/// configuration. Ids are stable: one id per distinct canonical schema, whichever subjects use it.
/// With a data directory every change is written to disk atomically before it is acknowledged.
/// </summary>
public sealed class SchemaStore
{
    private const string StateFileName = "schemas.json";

    private readonly Lock _lock = new();
    private readonly string? _dataDirectory;
    private readonly Dictionary<int, StoredSchema> _schemasById = [];
    private readonly Dictionary<string, int> _idsByCanonical = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<VersionEntry>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CompatibilityLevel> _subjectLevels = new(StringComparer.Ordinal);
    private CompatibilityLevel _globalLevel = CompatibilityLevel.Backward;
    private int _nextId = 1;

    public SchemaStore(string? dataDirectory = null)
    {
        _dataDirectory = dataDirectory;
        if (dataDirectory is not null)
        {
            Directory.CreateDirectory(dataDirectory);
            Load(Path.Combine(dataDirectory, StateFileName));
        }
    }

    /// <summary>Registers a schema under a subject; returns the existing id and version if it is already there.</summary>
    public SubjectVersion Register(string subject, string schemaText)
    {
        var (schema, canonical) = ParseSchema(schemaText);
        lock (_lock)
        {
            var versions = _subjects.GetValueOrDefault(subject);
            if (_idsByCanonical.TryGetValue(canonical, out var knownId)
                && versions?.FirstOrDefault(v => !v.Deleted && v.Id == knownId) is { } existing)
            {
                return ToSubjectVersion(subject, existing);
            }

            var live = versions?.Where(v => !v.Deleted).Select(v => (v.Version, _schemasById[v.Id].Schema)).ToList() ?? [];
            var problems = CompatibilityLevels.Check(EffectiveLevel(subject), schema, live);
            if (problems.Count > 0)
            {
                throw RegistryException.Incompatible(subject, problems);
            }

            if (!_idsByCanonical.TryGetValue(canonical, out var id))
            {
                id = _nextId++;
                _schemasById[id] = new StoredSchema(id, canonical, schema);
                _idsByCanonical[canonical] = id;
            }

            if (versions is null)
            {
                versions = [];
                _subjects[subject] = versions;
            }

            var entry = new VersionEntry(versions.Count == 0 ? 1 : versions.Max(v => v.Version) + 1, id);
            versions.Add(entry);
            Persist();
            return ToSubjectVersion(subject, entry);
        }
    }

    /// <summary>Finds the version of a subject that holds this schema.</summary>
    public SubjectVersion Lookup(string subject, string schemaText, bool includeDeleted)
    {
        var (_, canonical) = ParseSchema(schemaText);
        lock (_lock)
        {
            var versions = LiveVersionsOrThrow(subject, includeDeleted);
            if (_idsByCanonical.TryGetValue(canonical, out var id)
                && versions.LastOrDefault(v => v.Id == id) is { } found)
            {
                return ToSubjectVersion(subject, found);
            }

            throw RegistryException.SchemaNotFound($"no version of subject '{subject}' has this schema");
        }
    }

    public string GetSchemaById(int id)
    {
        lock (_lock)
        {
            // An id stays readable while any version refers to it, soft-deleted ones included,
            // so that consumers can still decode old records.
            if (_schemasById.TryGetValue(id, out var stored) && _subjects.Values.Any(vs => vs.Any(v => v.Id == id)))
            {
                return stored.Canonical;
            }

            throw RegistryException.SchemaNotFound($"id {id}");
        }
    }

    public IReadOnlyList<(string Subject, int Version)> GetSubjectVersionsById(int id, bool includeDeleted)
    {
        lock (_lock)
        {
            var result = _subjects
                .SelectMany(s => s.Value.Where(v => v.Id == id && (includeDeleted || !v.Deleted)).Select(v => (s.Key, v.Version)))
                .ToList();
            if (result.Count == 0 && GetSchemaByIdOrNull(id) is null)
            {
                throw RegistryException.SchemaNotFound($"id {id}");
            }

            return result;
        }
    }

    public IReadOnlyList<string> GetSubjects(bool includeDeleted, string? prefix)
    {
        lock (_lock)
        {
            return [.. _subjects
                .Where(s => s.Value.Any(v => includeDeleted || !v.Deleted))
                .Select(s => s.Key)
                .Where(s => prefix is null || s.StartsWith(prefix, StringComparison.Ordinal))];
        }
    }

    public IReadOnlyList<int> GetVersions(string subject, bool includeDeleted)
    {
        lock (_lock)
        {
            return [.. LiveVersionsOrThrow(subject, includeDeleted).Select(v => v.Version)];
        }
    }

    public SubjectVersion GetVersion(string subject, string version, bool includeDeleted)
    {
        var spec = ParseVersion(version);
        lock (_lock)
        {
            var versions = LiveVersionsOrThrow(subject, includeDeleted);
            return ToSubjectVersion(subject, Find(subject, versions, spec, version));
        }
    }

    public IReadOnlyList<int> DeleteSubject(string subject, bool permanent)
    {
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            List<int> deleted;
            if (permanent)
            {
                if (versions.Any(v => !v.Deleted))
                {
                    throw RegistryException.SubjectNotSoftDeleted(subject);
                }

                deleted = [.. versions.Select(v => v.Version)];
                _subjects.Remove(subject);
                _subjectLevels.Remove(subject);
            }
            else
            {
                if (versions.All(v => v.Deleted))
                {
                    throw RegistryException.SubjectSoftDeleted(subject);
                }

                deleted = [.. versions.Where(v => !v.Deleted).Select(v => v.Version)];
                foreach (var v in versions)
                {
                    v.Deleted = true;
                }
            }

            Persist();
            return deleted;
        }
    }

    public int DeleteVersion(string subject, string version, bool permanent)
    {
        var spec = ParseVersion(version);
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            // A permanent delete addresses soft-deleted versions; a soft delete the live ones.
            var candidates = permanent ? versions : versions.Where(v => !v.Deleted).ToList();
            VersionEntry entry;
            if (!permanent && spec is int number && versions.FirstOrDefault(v => v.Version == number) is { Deleted: true })
            {
                throw RegistryException.VersionSoftDeleted(subject, number);
            }

            entry = Find(subject, candidates, spec, version);
            if (permanent)
            {
                if (!entry.Deleted)
                {
                    throw RegistryException.VersionNotSoftDeleted(subject, entry.Version);
                }

                versions.Remove(entry);
                if (versions.Count == 0)
                {
                    _subjects.Remove(subject);
                }
            }
            else
            {
                entry.Deleted = true;
            }

            Persist();
            return entry.Version;
        }
    }

    /// <summary>Tests a schema against one version (or, with <paramref name="version"/> null or latest, as registration would).</summary>
    public IReadOnlyList<string> TestCompatibility(string subject, string? version, string schemaText)
    {
        var spec = version is null ? null : ParseVersion(version);
        var (schema, _) = ParseSchema(schemaText);
        lock (_lock)
        {
            var live = _subjects.GetValueOrDefault(subject)?.Where(v => !v.Deleted).ToList() ?? [];
            if (version is not null && live.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            var level = EffectiveLevel(subject);
            if (spec is int number)
            {
                var entry = Find(subject, live, spec, version!);
                var single = level switch
                {
                    CompatibilityLevel.BackwardTransitive => CompatibilityLevel.Backward,
                    CompatibilityLevel.ForwardTransitive => CompatibilityLevel.Forward,
                    CompatibilityLevel.FullTransitive => CompatibilityLevel.Full,
                    _ => level,
                };
                return CompatibilityLevels.Check(single, schema, [(entry.Version, _schemasById[entry.Id].Schema)]);
            }

            return CompatibilityLevels.Check(level, schema, [.. live.Select(v => (v.Version, _schemasById[v.Id].Schema))]);
        }
    }

    public CompatibilityLevel GetGlobalLevel()
    {
        lock (_lock)
        {
            return _globalLevel;
        }
    }

    public void SetGlobalLevel(CompatibilityLevel level)
    {
        lock (_lock)
        {
            _globalLevel = level;
            Persist();
        }
    }

    public CompatibilityLevel GetSubjectLevel(string subject, bool defaultToGlobal)
    {
        lock (_lock)
        {
            if (_subjectLevels.TryGetValue(subject, out var level))
            {
                return level;
            }

            return defaultToGlobal ? _globalLevel : throw RegistryException.SubjectLevelCompatibilityNotConfigured(subject);
        }
    }

    public void SetSubjectLevel(string subject, CompatibilityLevel level)
    {
        lock (_lock)
        {
            _subjectLevels[subject] = level;
            Persist();
        }
    }

    public CompatibilityLevel DeleteSubjectLevel(string subject)
    {
        lock (_lock)
        {
            if (!_subjectLevels.Remove(subject, out var previous))
            {
                throw RegistryException.SubjectLevelCompatibilityNotConfigured(subject);
            }

            Persist();
            return previous;
        }
    }

    /// <summary>"latest" and -1 are null; anything else must be an integer in [1, 2^31-1].</summary>
    internal static int? ParseVersion(string version)
    {
        if (version is "latest" or "-1")
        {
            return null;
        }

        if (int.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number >= 1)
        {
            return number;
        }

        throw RegistryException.InvalidVersion(version);
    }

    private static (AvroSchema Schema, string Canonical) ParseSchema(string schemaText)
    {
        try
        {
            var schema = AvroSchemaParser.Parse(schemaText);
            return (schema, AvroSchemaWriter.Write(schema));
        }
        catch (AvroSchemaException e)
        {
            throw RegistryException.InvalidSchema(e.Message);
        }
    }

    private CompatibilityLevel EffectiveLevel(string subject) =>
        _subjectLevels.TryGetValue(subject, out var level) ? level : _globalLevel;

    private List<VersionEntry> LiveVersionsOrThrow(string subject, bool includeDeleted)
    {
        var versions = _subjects.GetValueOrDefault(subject)?.Where(v => includeDeleted || !v.Deleted).ToList();
        return versions is { Count: > 0 } ? versions : throw RegistryException.SubjectNotFound(subject);
    }

    private static VersionEntry Find(string subject, List<VersionEntry> versions, int? spec, string text)
    {
        var entry = spec is int number ? versions.FirstOrDefault(v => v.Version == number) : versions.LastOrDefault();
        return entry ?? throw RegistryException.VersionNotFound(subject, text);
    }

    private string? GetSchemaByIdOrNull(int id) => _schemasById.TryGetValue(id, out var s) ? s.Canonical : null;

    private SubjectVersion ToSubjectVersion(string subject, VersionEntry entry) =>
        new(subject, entry.Version, entry.Id, _schemasById[entry.Id].Canonical);

    private void Persist()
    {
        if (_dataDirectory is null)
        {
            return;
        }

        var state = new PersistedState
        {
            NextId = _nextId,
            GlobalCompatibility = _globalLevel.ToWireName(),
            Schemas = [.. _schemasById.Values.OrderBy(s => s.Id).Select(s => new PersistedSchema { Id = s.Id, Schema = s.Canonical })],
            Subjects = [.. _subjects.Select(s => new PersistedSubject
            {
                Subject = s.Key,
                Versions = [.. s.Value.Select(v => new PersistedVersion { Version = v.Version, Id = v.Id, Deleted = v.Deleted })],
            })],
            SubjectCompatibility = _subjectLevels.ToDictionary(p => p.Key, p => p.Value.ToWireName()),
        };

        // Write-then-rename: a crash leaves either the old file or the new one, never half of one.
        var path = Path.Combine(_dataDirectory, StateFileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, state, PersistenceJsonContext.Default.PersistedState);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private void Load(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        PersistedState? state;
        try
        {
            using var stream = File.OpenRead(path);
            state = JsonSerializer.Deserialize(stream, PersistenceJsonContext.Default.PersistedState);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid registry state file: {e.Message}", e);
        }

        if (state is null)
        {
            return;
        }

        foreach (var s in state.Schemas)
        {
            var schema = AvroSchemaParser.Parse(s.Schema);
            _schemasById[s.Id] = new StoredSchema(s.Id, s.Schema, schema);
            _idsByCanonical[s.Schema] = s.Id;
        }

        foreach (var subject in state.Subjects)
        {
            _subjects[subject.Subject] = [.. subject.Versions.Select(v => new VersionEntry(v.Version, v.Id) { Deleted = v.Deleted })];
        }

        foreach (var (subject, level) in state.SubjectCompatibility)
        {
            if (CompatibilityLevels.TryParse(level, out var parsed))
            {
                _subjectLevels[subject] = parsed;
            }
        }

        if (CompatibilityLevels.TryParse(state.GlobalCompatibility, out var global))
        {
            _globalLevel = global;
        }

        _nextId = Math.Max(state.NextId, _schemasById.Count == 0 ? 1 : _schemasById.Keys.Max() + 1);
    }

    private sealed record StoredSchema(int Id, string Canonical, AvroSchema Schema);

    private sealed class VersionEntry(int version, int id)
    {
        public int Version { get; } = version;
        public int Id { get; } = id;
        public bool Deleted { get; set; }
    }
}

internal sealed class PersistedState
{
    public int NextId { get; set; } = 1;
    public string GlobalCompatibility { get; set; } = "BACKWARD";
    public List<PersistedSchema> Schemas { get; set; } = [];
    public List<PersistedSubject> Subjects { get; set; } = [];
    public Dictionary<string, string> SubjectCompatibility { get; set; } = [];
}

internal sealed class PersistedSchema
{
    public int Id { get; set; }
    public string Schema { get; set; } = "";
}

internal sealed class PersistedSubject
{
    public string Subject { get; set; } = "";
    public List<PersistedVersion> Versions { get; set; } = [];
}

internal sealed class PersistedVersion
{
    public int Version { get; set; }
    public int Id { get; set; }
    public bool Deleted { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PersistedState))]
internal sealed partial class PersistenceJsonContext : JsonSerializerContext;
