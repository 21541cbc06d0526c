using System.Text.Json;
using System.Text.Json.Serialization;
using Orders.Avro;
using Orders.SchemaRegistry.Compatibility;

namespace Orders.SchemaRegistry.Storage;

/// <summary>The state on disk: captured under the lock, written outside it, atomically, before a change is acknowledged; read back at start.</summary>
public sealed partial class SchemaStore
{
    private PersistedState CaptureState() => new()
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

    /// <summary>Writes a captured state outside the store's lock (serialising megabytes of schemas takes a while), before the change is acknowledged.</summary>
    private void Persist(PendingWrite? write)
    {
        if (write is null)
        {
            return;
        }

        lock (_persistLock)
        {
            // Every state holds all earlier changes: once a later one is on disk, an earlier one must not replace it.
            if (write.Change <= _persistedChange)
            {
                return;
            }

            // Write-then-rename: a crash leaves either the old file or the new one, never half of one.
            var path = Path.Combine(_dataDirectory!, StateFileName);
            var temp = path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, write.State, PersistenceJsonContext.Default.PersistedState);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            _persistedChange = write.Change;
        }
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
            foreach (var v in subject.Versions)
            {
                _versionsById[v.Id] = _versionsById.GetValueOrDefault(v.Id) + 1;
            }
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
