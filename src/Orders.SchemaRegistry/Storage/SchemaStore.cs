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
/// <remarks>
/// The lock guards the state and is held only to read or change it, never while a schema is
/// parsed, written out or judged: that work may take a whole budget (see
/// <see cref="DefaultWorkBudget"/>), and every consumer's <c>GET /schemas/ids/{id}</c> must not
/// wait for it. A registration judges a snapshot of its subject, then commits only if the subject
/// is still as it was (its stamp), else judges again.
/// </remarks>
public sealed partial class SchemaStore
{
    /// <summary>
    /// The steps one request may spend judging schemas (default values, compatibility against
    /// every version it is checked against). Spent on the most wasteful input known (unions of
    /// thousands of records sharing one name), that is about 0.6 s and 150 MB of short-lived
    /// memory on a 2-core machine; real schemas need far fewer (FULL on a 100,000-symbol enum:
    /// 200,000; a 30-level DAG: 600).
    /// </summary>
    public const long DefaultWorkBudget = 2_000_000;

    /// <summary>Incompatibilities listed in one answer: enough to act on, small enough to send.</summary>
    public const int MaxListedIncompatibilities = 100;

    private const string StateFileName = "schemas.json";

    private readonly Lock _lock = new();
    private readonly Lock _persistLock = new();
    private readonly string? _dataDirectory;
    private readonly long _workBudget;
    private readonly Dictionary<int, StoredSchema> _schemasById = [];
    private readonly Dictionary<string, int> _idsByCanonical = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<VersionEntry>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CompatibilityLevel> _subjectLevels = new(StringComparer.Ordinal);

    // How many versions (soft-deleted ones included) use each id: an id is readable while any does.
    private readonly Dictionary<int, int> _versionsById = [];

    // The change that last touched each subject's versions or level, never removed, so that a
    // subject deleted and registered again while a registration was judging it is seen to differ.
    private readonly Dictionary<string, long> _subjectStamps = new(StringComparer.Ordinal);
    private long _globalLevelStamp;
    private long _changes;
    private long _persistedChange;
    private CompatibilityLevel _globalLevel = CompatibilityLevel.Backward;
    private int _nextId = 1;

    /// <param name="workBudget">Steps one request may spend judging schemas; see <see cref="DefaultWorkBudget"/>.</param>
    public SchemaStore(string? dataDirectory = null, long workBudget = DefaultWorkBudget)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workBudget);
        _dataDirectory = dataDirectory;
        _workBudget = workBudget;
        if (dataDirectory is not null)
        {
            Directory.CreateDirectory(dataDirectory);
            Load(Path.Combine(dataDirectory, StateFileName));
            // Written back at once: a folder that cannot hold the state (read-only, /proc, its file a folder) is refused
            // at start, not found out at the first registration, which would then live in memory only.
            WriteState(CaptureState());
        }
    }

    /// <summary>Called between judging a registration and committing it: where tests make a concurrent change.</summary>
    internal Action<string>? Judged { get; set; }

    /// <summary>Called when a compatibility test has left the lock and starts judging: where tests watch it run.</summary>
    internal Action<string>? Judging { get; set; }

    /// <summary>Registers a schema under a subject; returns the existing id and version if it is already there.</summary>
    /// <param name="cancellationToken">Stops the judging, e.g. when the client has gone.</param>
    public SubjectVersion Register(string subject, string schemaText, CancellationToken cancellationToken = default)
    {
        CheckSubject(subject);
        var budget = new SchemaWorkBudget(_workBudget, cancellationToken);
        var (schema, canonical) = ParseSchema(schemaText, budget);
        while (true)
        {
            SubjectVersion? found;
            Snapshot? taken = null;
            lock (_lock)
            {
                found = FindRegistered(subject, canonical);
                if (found is null)
                {
                    taken = TakeSnapshot(subject);
                }
            }

            if (found is { } existing)
            {
                // Also the retry of a registration whose write failed (disk full): it is in memory, and must be on disk before it is acknowledged.
                PersistAll();
                return existing;
            }

            var snapshot = taken!;

            var problems = Check(snapshot.Level, schema, snapshot.Live, budget);
            if (problems.Count > 0)
            {
                // True of the subject as it was at the snapshot, which is when this answer takes effect.
                throw RegistryException.Incompatible(subject, problems);
            }

            Judged?.Invoke(subject);

            SubjectVersion registered;
            PendingWrite? write;
            lock (_lock)
            {
                if (!snapshot.IsCurrent(this, subject))
                {
                    // Changed while it was judged: judge it again as it is now, within the same budget.
                    continue;
                }

                registered = AddVersion(subject, schema, canonical);
                write = Changed(subject);
            }

            Persist(write);
            return registered;
        }
    }

    /// <summary>Finds the version of a subject that holds this schema.</summary>
    public SubjectVersion Lookup(string subject, string schemaText, bool includeDeleted, CancellationToken cancellationToken = default)
    {
        var (_, canonical) = ParseSchema(schemaText, new SchemaWorkBudget(_workBudget, cancellationToken));
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
            if (_schemasById.TryGetValue(id, out var stored) && _versionsById.GetValueOrDefault(id) > 0)
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
        List<int> deleted;
        PendingWrite? write;
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            if (permanent)
            {
                if (versions.Any(v => !v.Deleted))
                {
                    throw RegistryException.SubjectNotSoftDeleted(subject);
                }

                deleted = [.. versions.Select(v => v.Version)];
                foreach (var v in versions)
                {
                    _versionsById[v.Id]--;
                }

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

            write = Changed(subject);
        }

        Persist(write);
        return deleted;
    }

    public int DeleteVersion(string subject, string version, bool permanent)
    {
        var spec = ParseVersion(version);
        VersionEntry entry;
        PendingWrite? write;
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            // A permanent delete addresses soft-deleted versions; a soft delete the live ones.
            var candidates = permanent ? versions : versions.Where(v => !v.Deleted).ToList();
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
                _versionsById[entry.Id]--;
                if (versions.Count == 0)
                {
                    _subjects.Remove(subject);
                }
            }
            else
            {
                entry.Deleted = true;
            }

            write = Changed(subject);
        }

        Persist(write);
        return entry.Version;
    }

    /// <summary>Tests a schema against one version (or, with <paramref name="version"/> null or latest, as registration would).</summary>
    /// <param name="cancellationToken">Stops the judging, e.g. when the client has gone.</param>
    public IReadOnlyList<string> TestCompatibility(string subject, string? version, string schemaText, CancellationToken cancellationToken = default)
    {
        var spec = version is null ? null : ParseVersion(version);
        var budget = new SchemaWorkBudget(_workBudget, cancellationToken);
        var (schema, _) = ParseSchema(schemaText, budget);
        CompatibilityLevel level;
        List<(int Version, AvroSchema Schema)> against;
        lock (_lock)
        {
            var live = _subjects.GetValueOrDefault(subject)?.Where(v => !v.Deleted).ToList() ?? [];
            if (version is not null && live.Count == 0)
            {
                throw RegistryException.SubjectNotFound(subject);
            }

            level = EffectiveLevel(subject);
            if (spec is int)
            {
                var entry = Find(subject, live, spec, version!);
                level = level switch
                {
                    CompatibilityLevel.BackwardTransitive => CompatibilityLevel.Backward,
                    CompatibilityLevel.ForwardTransitive => CompatibilityLevel.Forward,
                    CompatibilityLevel.FullTransitive => CompatibilityLevel.Full,
                    _ => level,
                };
                against = [(entry.Version, _schemasById[entry.Id].Schema)];
            }
            else
            {
                against = [.. live.Select(v => (v.Version, _schemasById[v.Id].Schema))];
            }
        }

        Judging?.Invoke(subject);
        return Check(level, schema, against, budget);
    }

    /// <summary>
    /// A subject a schema or a level may be set for, by Confluent's rule (<c>QualifiedSubject.isValidSubject</c>):
    /// no control character (Java's <c>isISOControl</c>), and not one of the names it keeps for itself.
    /// </summary>
    /// <exception cref="RegistryException">42208.</exception>
    internal static void CheckSubject(string subject)
    {
        if (subject is "__GLOBAL" or "__EMPTY" || subject.Any(c => c <= '\u001f' || c is >= '\u007f' and <= '\u009f'))
        {
            throw RegistryException.InvalidSubject(subject);
        }
    }

    /// <summary>
    /// As Confluent's <c>VersionId</c> reads it: trimmed (Java's trim, every character up to a space),
    /// "latest" in any case and -1 are null; anything else must be an integer (Java's
    /// <c>Integer.valueOf</c>: an optional sign, digits) in [1, 2^31-1].
    /// </summary>
    internal static int? ParseVersion(string version)
    {
        var text = version.Trim(JavaWhitespace);
        if (text.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) && (number >= 1 || number == -1))
        {
            return number == -1 ? null : number;
        }

        throw RegistryException.InvalidVersion(version);
    }

    private static readonly char[] JavaWhitespace = [.. Enumerable.Range(0, 33).Select(c => (char)c)];

    private static (AvroSchema Schema, string Canonical) ParseSchema(string schemaText, SchemaWorkBudget budget)
    {
        try
        {
            var schema = AvroSchemaParser.Parse(schemaText, budget);
            return (schema, AvroSchemaWriter.Write(schema));
        }
        catch (AvroSchemaException e)
        {
            throw RegistryException.InvalidSchema(e.Message);
        }
        catch (SchemaTooComplexException e)
        {
            throw RegistryException.TooComplex(e.Message);
        }
    }

    private static IReadOnlyList<string> Check(CompatibilityLevel level, AvroSchema schema, IReadOnlyList<(int Version, AvroSchema Schema)> against, SchemaWorkBudget budget)
    {
        try
        {
            return CompatibilityLevels.Check(level, schema, against, budget, MaxListedIncompatibilities);
        }
        catch (SchemaTooComplexException e)
        {
            throw RegistryException.TooComplex(e.Message);
        }
    }

    /// <summary>The version of the subject that already holds this schema, if any.</summary>
    private SubjectVersion? FindRegistered(string subject, string canonical) =>
        _idsByCanonical.TryGetValue(canonical, out var id)
        && _subjects.GetValueOrDefault(subject)?.FirstOrDefault(v => !v.Deleted && v.Id == id) is { } existing
            ? ToSubjectVersion(subject, existing)
            : null;

    private Snapshot TakeSnapshot(string subject) => new(
        _subjectStamps.GetValueOrDefault(subject),
        _globalLevelStamp,
        EffectiveLevel(subject),
        _subjects.GetValueOrDefault(subject)?.Where(v => !v.Deleted).Select(v => (v.Version, _schemasById[v.Id].Schema)).ToList() ?? []);

    private SubjectVersion AddVersion(string subject, AvroSchema schema, string canonical)
    {
        if (!_idsByCanonical.TryGetValue(canonical, out var id))
        {
            id = _nextId++;
            _schemasById[id] = new StoredSchema(id, canonical, schema);
            _idsByCanonical[canonical] = id;
        }

        if (!_subjects.TryGetValue(subject, out var versions))
        {
            versions = [];
            _subjects[subject] = versions;
        }

        var entry = new VersionEntry(versions.Count == 0 ? 1 : versions.Max(v => v.Version) + 1, id);
        versions.Add(entry);
        _versionsById[id] = _versionsById.GetValueOrDefault(id) + 1;
        return ToSubjectVersion(subject, entry);
    }

    /// <summary>Records a change (of one subject, or with null of the global level); under the lock.</summary>
    /// <returns>The state to write, or null without a data directory.</returns>
    private PendingWrite? Changed(string? subject)
    {
        var change = ++_changes;
        if (subject is null)
        {
            _globalLevelStamp = change;
        }
        else
        {
            _subjectStamps[subject] = change;
        }

        return _dataDirectory is null ? null : new PendingWrite(change, CaptureState());
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

    private sealed record StoredSchema(int Id, string Canonical, AvroSchema Schema);

    /// <summary>What a registration judges: its subject's live versions and level, and the stamps that tell whether they changed since.</summary>
    private sealed record Snapshot(long SubjectStamp, long GlobalLevelStamp, CompatibilityLevel Level, List<(int Version, AvroSchema Schema)> Live)
    {
        public bool IsCurrent(SchemaStore store, string subject) =>
            store._subjectStamps.GetValueOrDefault(subject) == SubjectStamp && store._globalLevelStamp == GlobalLevelStamp;
    }

    private sealed record PendingWrite(long Change, PersistedState State);

    private sealed class VersionEntry(int version, int id)
    {
        public int Version { get; } = version;
        public int Id { get; } = id;
        public bool Deleted { get; set; }
    }
}
