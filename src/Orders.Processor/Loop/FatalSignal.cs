using Orders.Kafka;
using Orders.Processor.Failures;
using Orders.RegistryClient;

namespace Orders.Processor.Loop;

/// <summary>
/// Whether the run is over, and why: the one place that keeps the errors that must stop the
/// processor, from whichever thread found them: librdkafka's (a fatal producer or consumer error),
/// the loop's (credentials rejected, a layout that cannot work, a dead letter or checkpoint that can
/// never be written). The loop stops at its next turn and the run ends with the first error; the
/// later ones are kept too, since each says what can no longer be done (a close still writes the
/// checkpoints it can).
/// </summary>
public sealed class FatalSignal
{
    private readonly Lock _lock = new();
    private readonly List<Exception> _errors = [];
    private Exception? _first;

    /// <summary>The first error: the one the run ends with.</summary>
    public Exception? Error => Volatile.Read(ref _first);

    public bool IsSet => Error is not null;

    /// <summary>Records <paramref name="error"/>; the first one recorded is the run's.</summary>
    public void Set(Exception error)
    {
        lock (_lock)
        {
            _errors.Add(error);
            Interlocked.CompareExchange(ref _first, error, null);
        }
    }

    /// <summary>Whether an error of this kind was recorded (e.g. dead letters that can never be written).</summary>
    public bool Has<T>()
        where T : Exception
    {
        lock (_lock)
        {
            return _errors.Any(e => e is T);
        }
    }

    /// <summary>
    /// The one decision about a registry that refuses the credentials (401/403): no retry can fix it,
    /// so the run stops, whatever was asking (a record's decoding or handler, a restore, the checkpoint schema).
    /// </summary>
    /// <returns>True when <paramref name="error"/> is that refusal, now recorded; the caller leaves its work undone.</returns>
    public bool StopsOnRejectedCredentials(Exception error)
    {
        if (!SchemaRegistryErrors.IsCredentialsRejected(error))
        {
            return false;
        }

        Set(new RegistryCredentialsException(error));
        return true;
    }
}
