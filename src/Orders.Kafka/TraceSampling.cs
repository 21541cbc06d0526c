using System.Diagnostics;

namespace Orders.Kafka;

/// <summary>
/// The configured head sampler, decided on a trace id's bytes: OpenTelemetry's specification
/// samplers (always on/off, trace id ratio, parent based), the ratio decision exactly as
/// OpenTelemetry .NET's TraceIdRatioBasedSampler makes it (1.21: the first 8 bytes of the trace id,
/// big endian, sign bit cleared, under ratio × long.MaxValue), so that an OpenTelemetry service
/// downstream with the same ratio decides alike.
/// </summary>
public sealed class HeadSampler
{
    private readonly long _upperBound;

    /// <param name="parentBased">A span with a parent follows the parent's sampled flag; otherwise the ratio decides every span.</param>
    /// <param name="ratio">The share of new traces (of every trace when not parent based) that is sampled: 0 to 1.</param>
    /// <param name="propagateUnsampled">Whether a record whose trace is not sampled still carries a traceparent (flag off).</param>
    public HeadSampler(bool parentBased, double ratio, bool propagateUnsampled = true)
    {
        PropagateUnsampled = propagateUnsampled;
        ArgumentOutOfRangeException.ThrowIfLessThan(ratio, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ratio, 1);
        ParentBased = parentBased;
        _upperBound = ratio switch
        {
            0 => long.MinValue,
            1 => long.MaxValue,
            _ => (long)(ratio * long.MaxValue),
        };
    }

    public bool ParentBased { get; }

    public bool PropagateUnsampled { get; }

    public bool Root(ReadOnlySpan<byte> traceId)
    {
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(traceId) & long.MaxValue) < _upperBound;
    }

    public bool Child(ActivityTraceFlags parent, ReadOnlySpan<byte> traceId) =>
        ParentBased ? (parent & ActivityTraceFlags.Recorded) != 0 : Root(traceId);
}

/// <summary>
/// The head-sampling decision, made before any span exists, so that a record whose trace is not
/// sampled costs no span and no allocation: OpenTelemetry's SDK makes an <see cref="Activity"/> for
/// every record it drops (to carry the decision on), and <see cref="ActivityTraceId"/> is a string
/// inside; at a ratio of 0.01 those alone cost the publisher half its speed. The tracing host
/// installs the configured sampler (<see cref="Use"/>); a sampled root span then gets the very
/// trace id that was decided on, so that the SDK's sampler, the same one, agrees.
/// Without a sampler installed (a plain listener, as in tests) everything is sampled.
/// </summary>
public static class TraceSampling
{
    /// <summary>Bytes of a trace id.</summary>
    public const int TraceIdBytes = 16;

    [ThreadStatic]
    private static ActivityTraceId? t_nextRoot;

    private static volatile HeadSampler? s_sampler;

    static TraceSampling()
    {
        var previous = Activity.TraceIdGenerator;
        Activity.TraceIdGenerator = () => t_nextRoot ?? previous?.Invoke() ?? ActivityTraceId.CreateRandom();
    }

    /// <summary>Installs the sampler of the tracing configured; null removes it.</summary>
    public static void Use(HeadSampler? sampler) => s_sampler = sampler;

    /// <summary>Whether a record whose trace is not sampled still carries a traceparent that says so (true without a sampler installed).</summary>
    public static bool PropagateUnsampled => s_sampler?.PropagateUnsampled ?? true;

    /// <summary>Draws a new trace id into <paramref name="traceId"/> (16 bytes) and decides whether its trace is sampled.</summary>
    public static bool SampleRoot(Span<byte> traceId)
    {
        do
        {
            Random.Shared.NextBytes(traceId[..TraceIdBytes]);
        }
        while (traceId[..TraceIdBytes].IndexOfAnyExcept((byte)0) < 0);

        return s_sampler is not { } sampler || sampler.Root(traceId);
    }

    /// <summary>Decides a span that continues a parent with these flags and this trace id.</summary>
    public static bool SampleChild(ActivityTraceFlags parent, ReadOnlySpan<byte> traceId) => s_sampler is not { } sampler || sampler.Child(parent, traceId);

    /// <summary>Starts a root span with the trace id <see cref="SampleRoot"/> drew; not current anywhere.</summary>
    public static Activity? StartRoot(ActivitySource source, string name, ActivityKind kind, ReadOnlySpan<byte> traceId, IEnumerable<ActivityLink>? links = null)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        t_nextRoot = ActivityTraceId.CreateFromBytes(traceId[..TraceIdBytes]);
        try
        {
            return source.StartActivity(name, kind, default(ActivityContext), links: links);
        }
        finally
        {
            t_nextRoot = null;
            Activity.Current = previous;
        }
    }
}
