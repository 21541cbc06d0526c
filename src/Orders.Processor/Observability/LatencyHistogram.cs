namespace Orders.Processor.Observability;

/// <summary>
/// A histogram of durations in seconds over fixed bucket bounds, as Prometheus and OpenTelemetry's
/// explicit-bucket histograms keep them: bucket <c>i</c> counts the values at most <c>bounds[i]</c>
/// and above <c>bounds[i - 1]</c>, the last one everything above the last bound; with the count and
/// the sum of every value recorded.
/// <para>
/// Recording costs a bucket search and two atomic additions, with no label lookup and no
/// allocation: the processor records two per record, which through OpenTelemetry's SDK took most of
/// a cold drain's spare CPU (docs/BENCHMARKS.md). Safe on any thread; a <see cref="Read"/> while
/// values are being recorded sees each of them in the buckets or not at all, and its count is the
/// buckets' total, so what it gives is always a valid histogram.
/// </para>
/// </summary>
public sealed class LatencyHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _buckets;
    private long _sumBits;

    /// <param name="bounds">The buckets' upper bounds, strictly increasing and finite.</param>
    public LatencyHistogram(IReadOnlyList<double> bounds)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        for (var i = 0; i < bounds.Count; i++)
        {
            if (!double.IsFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            {
                throw new ArgumentException($"bucket bounds must be finite and strictly increasing; bound {i} is {bounds[i]}", nameof(bounds));
            }
        }

        _bounds = [.. bounds];
        _buckets = new long[_bounds.Length + 1];
    }

    public IReadOnlyList<double> Bounds => _bounds;

    /// <summary>Counts one duration. NaN is not a duration and is not counted.</summary>
    public void Record(double seconds)
    {
        if (double.IsNaN(seconds))
        {
            return;
        }

        // Few bounds (about 20) and most values in the first few: a linear search beats a binary one.
        var bucket = 0;
        var bounds = _bounds;
        while (bucket < bounds.Length && seconds > bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _buckets[bucket]);
        var sum = Volatile.Read(ref _sumBits);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _sumBits, BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(sum) + seconds), sum);
            if (seen == sum)
            {
                return;
            }

            sum = seen;
        }
    }

    /// <summary>What has been recorded so far.</summary>
    public HistogramSnapshot Read()
    {
        var buckets = new long[_buckets.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = Volatile.Read(ref _buckets[i]);
        }

        return new HistogramSnapshot(_bounds, buckets, BitConverter.Int64BitsToDouble(Volatile.Read(ref _sumBits)));
    }
}

/// <summary>A <see cref="LatencyHistogram"/> as read: each bucket's own count (not cumulative), and the sum.</summary>
public sealed record HistogramSnapshot(IReadOnlyList<double> Bounds, IReadOnlyList<long> Buckets, double Sum)
{
    public long Count => Buckets.Sum();

    /// <summary>How many values were at most <paramref name="bound"/>, as a Prometheus bucket counts them (<c>le</c>).</summary>
    public long CountAtMost(double bound)
    {
        var count = 0L;
        for (var i = 0; i < Bounds.Count && Bounds[i] <= bound; i++)
        {
            count += Buckets[i];
        }

        return double.IsPositiveInfinity(bound) ? Count : count;
    }
}
