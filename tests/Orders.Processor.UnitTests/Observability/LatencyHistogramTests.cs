using System.Text;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Record_AValueOnABound_CountsInThatBucket_AsPrometheusLeDoes()
    {
        var histogram = new LatencyHistogram([0.001, 0.01, 0.1]);

        foreach (var value in new[] { 0.0, 0.001, 0.0010001, 0.01, 0.5, -1 })
        {
            histogram.Record(value);
        }

        var snapshot = histogram.Read();
        // [..0.001]: 0, 0.001, -1; (0.001..0.01]: 0.0010001, 0.01; (0.01..0.1]: none; above: 0.5.
        Assert.Equal([3L, 2, 0, 1], snapshot.Buckets);
        Assert.Equal(6, snapshot.Count);
        Assert.Equal(0.0 + 0.001 + 0.0010001 + 0.01 + 0.5 - 1, snapshot.Sum, 12);
        Assert.Equal((3, 5, 5, 6), (snapshot.CountAtMost(0.001), snapshot.CountAtMost(0.01), snapshot.CountAtMost(0.1), snapshot.CountAtMost(double.PositiveInfinity)));
    }

    [Fact]
    public void Record_NaN_IsNotCounted()
    {
        var histogram = new LatencyHistogram([1]);

        histogram.Record(double.NaN);

        Assert.Equal((0, 0.0), (histogram.Read().Count, histogram.Read().Sum));
    }

    [Fact]
    public void Record_FromManyThreadsAtOnce_LosesNoValue()
    {
        var histogram = new LatencyHistogram([0.5, 1.5]);

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                histogram.Record(thread % 3);
            }
        });

        var snapshot = histogram.Read();
        // Threads 0 to 3 record 0, 1, 2 and 0: two threads of zeros, one of ones, one of twos.
        Assert.Equal([200_000L, 100_000, 100_000], snapshot.Buckets);
        Assert.Equal(300_000, snapshot.Sum);
    }

    [Theory]
    [InlineData(new[] { 1.0, 1.0 })]
    [InlineData(new[] { 2.0, 1.0 })]
    [InlineData(new[] { 1.0, double.PositiveInfinity })]
    [InlineData(new[] { double.NaN })]
    public void New_BoundsNotStrictlyIncreasingOrNotFinite_AreRefused(double[] bounds)
    {
        Assert.Throws<ArgumentException>(() => new LatencyHistogram(bounds));
    }

    [Fact]
    public void Write_TextFormat_CumulativeBucketsToInf_ThenSumAndCount_WithEscapedLabels()
    {
        var histogram = new LatencyHistogram([0.00001, 1, 2.5]);
        histogram.Record(0.000005);
        histogram.Record(2);
        var text = new StringBuilder();

        HistogramExposition.Write(text, openMetrics: false, "x_seconds", "seconds", "Help with a \\ and\na line.", [new HistogramSeries([new("group", "a\"b\\c")], histogram.Read())]);

        Assert.Equal(
            """
            # TYPE x_seconds histogram
            # HELP x_seconds Help with a \\ and\na line.
            x_seconds_bucket{group="a\"b\\c",le="1e-05"} 1
            x_seconds_bucket{group="a\"b\\c",le="1.0"} 1
            x_seconds_bucket{group="a\"b\\c",le="2.5"} 2
            x_seconds_bucket{group="a\"b\\c",le="+Inf"} 2
            x_seconds_sum{group="a\"b\\c"} 2.000005
            x_seconds_count{group="a\"b\\c"} 2

            """.ReplaceLineEndings("\n"),
            text.ToString());
    }

    [Fact]
    public void Write_OpenMetrics_AddsTheUnit_AndEscapesQuotesInHelp()
    {
        var text = new StringBuilder();

        HistogramExposition.Write(text, openMetrics: true, "x_seconds", "seconds", "A \"quoted\" help.", [new HistogramSeries([], new LatencyHistogram([1]).Read())]);

        Assert.Equal(
            """
            # TYPE x_seconds histogram
            # UNIT x_seconds seconds
            # HELP x_seconds A \"quoted\" help.
            x_seconds_bucket{le="1.0"} 0
            x_seconds_bucket{le="+Inf"} 0
            x_seconds_sum 0.0
            x_seconds_count 0

            """.ReplaceLineEndings("\n"),
            text.ToString());
    }
}
