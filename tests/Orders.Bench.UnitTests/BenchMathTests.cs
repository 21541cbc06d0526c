namespace Orders.Bench.UnitTests;

/// <summary>How the bench turns runs into ratios: medians, pairs of the same repeat, bench errors.</summary>
public sealed class BenchMathTests
{
    [Fact]
    public void MedianOf_TheMiddle_OrTheMeanOfTheMiddleTwo() =>
        Assert.Equal((3.0, 2.5), (BenchMath.MedianOf([5, 1, 3]), BenchMath.MedianOf([4, 1, 3, 2])));

    [Fact]
    public void CompareThroughput_IsTheMedianOfEachRepeatsRatio_NotTheRatioOfTheMedians()
    {
        // A slow spell in repeat 1 weighs on both sides of it: paired, every repeat says 0.5.
        BenchRun[] runs =
        [
            Run("raw", 0, 1000), Run("pipeline", 0, 500),
            Run("raw", 1, 100), Run("pipeline", 1, 50),
            Run("raw", 2, 900), Run("pipeline", 2, 450),
        ];
        var raw = BenchMath.Median(runs, "raw", "ceiling");
        var pipeline = BenchMath.Median(runs, "pipeline", "pipeline");

        var comparison = BenchMath.CompareThroughput("drain", runs, raw, pipeline, noise: 0.05, references: []);

        Assert.Equal(0.5, comparison.Ratio);
        Assert.Equal((900, 450), (raw.Throughput, pipeline.Throughput));
        Assert.False(comparison.BenchError);
    }

    [Fact]
    public void APipelineBeyondItsCeilingByMoreThanTheNoise_IsABenchError_WithNoRatio()
    {
        BenchRun[] runs = [Run("raw", 0, 100), Run("pipeline", 0, 120)];

        var comparison = BenchMath.CompareThroughput("drain", runs, BenchMath.Median(runs, "raw", "ceiling"), BenchMath.Median(runs, "pipeline", "pipeline"), 0.05, []);

        Assert.True(comparison.BenchError);
        Assert.Null(comparison.Ratio);
        Assert.Equal(1.2, comparison.MeasuredRatio);
        Assert.Contains("bench error", comparison.BenchErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void CpuRatio_IsPairedPerRepeat_PipelineOverCeiling()
    {
        BenchRun[] runs = [Run("raw", 0, 100, cpu: 1.0), Run("pipeline", 0, 90, cpu: 1.3), Run("raw", 1, 100, cpu: 2.0), Run("pipeline", 1, 90, cpu: 2.6)];

        var comparison = BenchMath.CompareThroughput("drain", runs, BenchMath.Median(runs, "raw", "ceiling"), BenchMath.Median(runs, "pipeline", "pipeline"), 0.05, []);

        Assert.Equal(1.3, comparison.CpuRatio);
    }

    [Fact]
    public void PairedCpu_IsTheMedianOfEachRepeatsCpuRatio_AndNullWhenASideWasNotMeasured()
    {
        // Repeat 1 is a slow spell for both sides; each repeat says 1.2, 1.25 and 1.5: the median is 1.25.
        BenchRun[] runs =
        [
            Run("raw", 0, 100, cpu: 1.0), Run("floor", 0, 90, cpu: 1.2),
            Run("raw", 1, 100, cpu: 4.0), Run("floor", 1, 90, cpu: 5.0),
            Run("raw", 2, 100, cpu: 1.0), Run("floor", 2, 90, cpu: 1.5),
            Run("kcat", 0, 300),
        ];

        Assert.Equal(1.25, BenchMath.PairedCpu(runs, "raw", "floor"));
        Assert.Null(BenchMath.PairedCpu(runs, "raw", "kcat"));
        Assert.Null(BenchMath.PairedCpu(runs, "raw", "absent"));
    }

    [Fact]
    public void ProduceThenDrain_IsTheCeilingsTimePerOrder_OverThePipelines()
    {
        static SideResult Side(double throughput) => new("s", "r", 1, throughput, null, null, null);

        // Ceilings: 1 µs + 1 µs per order; pipeline: 2 µs + 2 µs.
        Assert.Equal(0.5, BenchMath.ProduceThenDrain(Side(1_000_000), Side(1_000_000), Side(500_000), Side(500_000)), precision: 9);
    }

    private static BenchRun Run(string side, int repeat, double throughput, double? cpu = null) =>
        new("drain", side, repeat, 1000, 1000, 1000 / throughput, throughput, cpu, null, null);
}
