using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Kafka.UnitTests;

public sealed class TraceHeadersTests
{
    [Fact]
    public void Inject_ThenExtract_TheSameContext_ReplacingAnyEarlierOne()
    {
        using var span = new Activity("send").SetIdFormat(ActivityIdFormat.W3C).Start();
        span.TraceStateString = "vendor=1";
        var headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") }, { "other", [1] } };

        TraceHeaders.Inject(span, headers);
        var context = TraceHeaders.Extract(headers);

        Assert.Equal(span.TraceId, context.TraceId);
        Assert.Equal(span.SpanId, context.SpanId);
        Assert.Equal("vendor=1", context.TraceState);
        Assert.True(context.IsRemote);
        Assert.Equal(["other", "traceparent", "tracestate"], headers.Select(h => h.Key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a traceparent")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01")]
    public void Extract_NoneOrInvalid_IsNoContext(string? traceparent)
    {
        var headers = new Headers();
        if (traceparent is not null)
        {
            headers.Add("traceparent", Encoding.ASCII.GetBytes(traceparent));
        }

        Assert.Equal(default, TraceHeaders.Extract(headers));
        Assert.Equal(default, TraceHeaders.Extract(null));
    }

    [Fact]
    public void Extract_TheSampledFlag()
    {
        var headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00") } };

        var context = TraceHeaders.Extract(headers);

        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.TraceId.ToHexString());
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags & ActivityTraceFlags.Recorded);
    }

    [Fact]
    public void Extract_ALaterVersion_WithMoreFields_KeepsWhatItKnows()
    {
        var headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-whatever") } };

        Assert.Equal("b7ad6b7169203331", TraceHeaders.Extract(headers).SpanId.ToHexString());
    }

    [Fact]
    public void NotSampled_IsAValidTraceParent_OfThatTrace_WithTheFlagOff_ReadInPlace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        Span<byte> bytes = stackalloc byte[16];
        traceId.CopyTo(bytes);
        var header = TraceHeaders.NotSampled(bytes);
        var text = Encoding.ASCII.GetString(header.GetValueBytes());

        Assert.Equal("traceparent", header.Key);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", text);
        var context = TraceHeaders.Extract([header]);
        Assert.Equal(traceId, context.TraceId);
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags);
        Span<byte> read = stackalloc byte[16];
        Assert.True(TraceHeaders.TryReadParent([header], read, out var flags));
        Assert.True(read.SequenceEqual(bytes));
        Assert.Equal(ActivityTraceFlags.None, flags);
    }

    [Fact]
    public void TryReadParent_NoneOrInvalid_IsFalse()
    {
        Span<byte> read = stackalloc byte[16];
        Assert.False(TraceHeaders.TryReadParent(null, read, out _));
        Assert.False(TraceHeaders.TryReadParent([], read, out _));
        Assert.False(TraceHeaders.TryReadParent([new Header("traceparent", "00-xyz"u8.ToArray())], read, out _));
    }

    [Theory]
    [InlineData(true, 0.25)]
    [InlineData(false, 0.25)]
    [InlineData(true, 0.0)]
    [InlineData(true, 1.0)]
    public void SampleRoot_DrawsATraceId_TheSamplerDecidesOnIt_AndTheRootSpanGetsThatId(bool parentBased, double ratio)
    {
        using var source = new ActivitySource("trace-sampling-test");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var sampler = new HeadSampler(parentBased, ratio);
        TraceSampling.Use(sampler);
        try
        {
            var sampled = 0;
            Span<byte> traceId = stackalloc byte[16];
            for (var i = 0; i < 400; i++)
            {
                var decided = TraceSampling.SampleRoot(traceId);
                Assert.Equal(sampler.Root(traceId), decided);
                if (decided)
                {
                    sampled++;
                    using var span = TraceSampling.StartRoot(source, "root", ActivityKind.Producer, traceId);
                    Assert.Equal(ActivityTraceId.CreateFromBytes(traceId), span!.TraceId);
                    Assert.Null(span.Parent);
                    Assert.Equal("0000000000000000", span.ParentSpanId.ToHexString());
                }
            }

            Assert.InRange(sampled, (int)(400 * ratio * 0.6), (int)Math.Ceiling(400 * ratio * 1.4));
            foreach (var flags in new[] { ActivityTraceFlags.Recorded, ActivityTraceFlags.None })
            {
                // Parent based: the parent's flag; otherwise the ratio on the parent's trace id.
                Assert.Equal(parentBased ? flags == ActivityTraceFlags.Recorded : sampler.Root(traceId), TraceSampling.SampleChild(flags, traceId));
            }
        }
        finally
        {
            TraceSampling.Use(null);
        }
    }

    [Fact]
    public void NoSamplerInstalled_EverythingIsSampled()
    {
        Span<byte> traceId = stackalloc byte[16];

        Assert.True(TraceSampling.SampleRoot(traceId));
        Assert.True(TraceSampling.SampleChild(ActivityTraceFlags.None, traceId));
        Assert.True(traceId.IndexOfAnyExcept((byte)0) >= 0);
        Assert.True(TraceSampling.PropagateUnsampled);
    }

    [Theory]
    [InlineData(new byte[] { 0x6f, 0x2d, 0x31 }, "o-1")]
    [InlineData(new byte[] { 0xff, 0xfe }, null)]
    public void KeyText_Utf8Only(byte[] key, string? expected)
    {
        Assert.Equal(expected, MessagingAttributes.KeyText(key));
    }
}
