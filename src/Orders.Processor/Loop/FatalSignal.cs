namespace Orders.Processor.Loop;

/// <summary>
/// The first error that must stop the processor, from whichever thread found it: librdkafka's
/// (a fatal producer or consumer error), the loop's (credentials rejected, a layout that cannot
/// work, a dead letter or checkpoint that can never be written). The loop stops at the next turn
/// and the run ends with this error; later ones are consequences and are dropped.
/// </summary>
public sealed class FatalSignal
{
    private Exception? _error;

    public Exception? Error => Volatile.Read(ref _error);

    public bool IsSet => Error is not null;

    /// <summary>Records <paramref name="error"/> unless an earlier one was recorded.</summary>
    public void Set(Exception error) => Interlocked.CompareExchange(ref _error, error, null);
}
