using System.Diagnostics;

namespace Orders.Kafka;

/// <summary>
/// The head-sampling decision, made before any span exists, so that a record that is not sampled
/// costs no span at all: OpenTelemetry's SDK would make an <see cref="Activity"/> for every record
/// it drops (to carry the decision on), measured at more than half the producer's throughput with a
/// ratio of 0.01. The tracing host installs the configured sampler's decision (<see cref="Use"/>);
/// the span it then starts gets the very trace id that was decided on, so that the SDK's own
/// sampler, the same one, agrees, and a ratio sampler downstream decides alike.
/// Without a decision installed (a plain listener, as in tests) everything is sampled.
/// </summary>
public static class TraceSampling
{
    [ThreadStatic]
    private static ActivityTraceId? t_nextRoot;

    private static volatile Func<ActivityContext, ActivityTraceId, bool>? s_decide;

    static TraceSampling()
    {
        var previous = Activity.TraceIdGenerator;
        Activity.TraceIdGenerator = () => t_nextRoot ?? previous?.Invoke() ?? ActivityTraceId.CreateRandom();
    }

    /// <summary>Installs the decision (parent context, possibly none; trace id) → sampled; null removes it.</summary>
    public static void Use(Func<ActivityContext, ActivityTraceId, bool>? decide) => s_decide = decide;

    /// <summary>Decides a new trace: its id, and whether it is sampled.</summary>
    public static bool SampleRoot(out ActivityTraceId traceId)
    {
        traceId = ActivityTraceId.CreateRandom();
        return s_decide is not { } decide || decide(default, traceId);
    }

    /// <summary>Decides a span that continues <paramref name="parent"/> (with a parent-based sampler: the parent's flag).</summary>
    public static bool SampleChild(in ActivityContext parent) => s_decide is not { } decide || decide(parent, parent.TraceId);

    /// <summary>Starts a root span with the trace id <see cref="SampleRoot"/> decided on; not current anywhere.</summary>
    public static Activity? StartRoot(ActivitySource source, string name, ActivityKind kind, ActivityTraceId traceId, IEnumerable<ActivityLink>? links = null)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        t_nextRoot = traceId;
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
