using System.Diagnostics;
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

            WriteState(write.State);
            Interlocked.Exchange(ref _persistedChange, write.Change);
        }
    }

    /// <summary>
    /// Writes the whole state now if some change is not on disk yet: one whose write failed (disk full, say) stays in
    /// memory, and an answer that rests on it (a registration retried, found registered) must wait until it is written.
    /// </summary>
    private void PersistAll()
    {
        if (_dataDirectory is null || Interlocked.Read(ref _persistedChange) >= Interlocked.Read(ref _changes))
        {
            return;
        }

        PendingWrite write;
        lock (_lock)
        {
            write = new PendingWrite(_changes, CaptureState());
        }

        Persist(write);
    }

    /// <summary>Write-then-rename: a crash leaves either the old file or the new one, never half of one.</summary>
    private void WriteState(PersistedState state)
    {
        var path = Path.Combine(_dataDirectory!, StateFileName);
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

        var parsed = new Dictionary<int, AvroSchema>();
        if (Problem(state, parsed) is { } problem)
        {
            // Valid JSON with content this store never writes (edited by hand, or another program's): one line at start,
            // not a stack trace, nor a store that answers 500 for a version whose schema is missing.
            throw new InvalidDataException($"{path} is not a valid registry state file: {problem}");
        }

        foreach (var s in state.Schemas)
        {
            _schemasById[s.Id] = new StoredSchema(s.Id, s.Schema, parsed[s.Id]);
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
            _subjectLevels[subject] = CompatibilityLevels.TryParse(level, out var subjectLevel) ? subjectLevel : throw new UnreachableException();
        }

        _globalLevel = CompatibilityLevels.TryParse(state.GlobalCompatibility, out var global) ? global : throw new UnreachableException();
        _nextId = Math.Max(state.NextId, _schemasById.Count == 0 ? 1 : _schemasById.Keys.Max() + 1);
    }

    /// <summary>What makes a deserialized state one this store could not have written, or null; fills <paramref name="parsed"/> with each schema by id.</summary>
    private static string? Problem(PersistedState state, Dictionary<int, AvroSchema> parsed)
    {
        if (state.Schemas is null || state.Subjects is null || state.SubjectCompatibility is null)
        {
            return "\"schemas\", \"subjects\" and \"subjectCompatibility\" must not be null";
        }

        foreach (var schema in state.Schemas)
        {
            if (schema is null || schema.Schema is null || schema.Id < 1)
            {
                return "each schema needs an id of 1 or more and its schema text";
            }

            if (!AvroSchemaParser.TryParse(schema.Schema, out var avro, out var error))
            {
                return $"schema {schema.Id} is not valid Avro: {error}";
            }

            if (!parsed.TryAdd(schema.Id, avro!))
            {
                return $"schema id {schema.Id} appears twice";
            }
        }

        var subjects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var subject in state.Subjects)
        {
            if (subject is null || string.IsNullOrEmpty(subject.Subject) || subject.Versions is null)
            {
                return "each subject needs a name and a list of versions";
            }

            if (!subjects.Add(subject.Subject))
            {
                return $"subject {subject.Subject} appears twice";
            }

            var versions = new HashSet<int>();
            foreach (var version in subject.Versions)
            {
                if (version is null || version.Version < 1 || !versions.Add(version.Version))
                {
                    return $"subject {subject.Subject} has a missing, duplicate or non-positive version";
                }

                if (!parsed.ContainsKey(version.Id))
                {
                    return $"version {version.Version} of subject {subject.Subject} names schema id {version.Id}, which the file does not hold";
                }
            }
        }

        if (state.SubjectCompatibility.FirstOrDefault(p => !CompatibilityLevels.TryParse(p.Value, out _)) is { Key: not null } unknown)
        {
            return $"subject {unknown.Key} has an unknown compatibility level \"{unknown.Value}\"";
        }

        return CompatibilityLevels.TryParse(state.GlobalCompatibility, out _) ? null : $"unknown global compatibility level \"{state.GlobalCompatibility}\"";
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
