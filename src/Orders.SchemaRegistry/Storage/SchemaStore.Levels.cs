using Orders.SchemaRegistry.Compatibility;

namespace Orders.SchemaRegistry.Storage;

/// <summary>The compatibility levels: global, and per subject.</summary>
public sealed partial class SchemaStore
{
    public CompatibilityLevel GetGlobalLevel()
    {
        lock (_lock)
        {
            return _globalLevel;
        }
    }

    public void SetGlobalLevel(CompatibilityLevel level)
    {
        PendingWrite? write;
        lock (_lock)
        {
            _globalLevel = level;
            write = Changed(subject: null);
        }

        Persist(write);
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
        CheckSubject(subject);
        PendingWrite? write;
        lock (_lock)
        {
            _subjectLevels[subject] = level;
            write = Changed(subject);
        }

        Persist(write);
    }

    public CompatibilityLevel DeleteSubjectLevel(string subject)
    {
        CompatibilityLevel previous;
        PendingWrite? write;
        lock (_lock)
        {
            if (!_subjectLevels.Remove(subject, out previous))
            {
                throw RegistryException.SubjectLevelCompatibilityNotConfigured(subject);
            }

            write = Changed(subject);
        }

        Persist(write);
        return previous;
    }
}
