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
    public void NotSampled_IsAValidTraceParent_OfThatTrace_WithTheFlagOff()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var header = TraceHeaders.NotSampled(traceId);
        var text = Encoding.ASCII.GetString(header.GetValueBytes());

        Assert.Equal("traceparent", header.Key);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", text);
        var context = TraceHeaders.Extract([header]);
        Assert.Equal(traceId, context.TraceId);
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags);
        Assert.Equal(text, $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-00");
    }

    [Fact]
    public void SampleRoot_WithADecisionInstalled_ThatDecisionOnTheTraceId_AndTheRootSpanGetsThatId()
    {
        using var source = new ActivitySource("trace-sampling-test");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var asked = new List<(ActivityContext, ActivityTraceId)>();
        TraceSampling.Use((parent, id) =>
        {
            asked.Add((parent, id));
            return id.ToHexString()[0] < '8';
        });
        try
        {
            var sampled = 0;
            for (var i = 0; i < 200; i++)
            {
                if (TraceSampling.SampleRoot(out var traceId))
                {
                    sampled++;
                    using var span = TraceSampling.StartRoot(source, "root", ActivityKind.Producer, traceId);
                    Assert.Equal(traceId, span!.TraceId);
                    Assert.Equal(default, span.Parent);
                    Assert.Equal("0000000000000000", span.ParentSpanId.ToHexString());
                }
            }

            Assert.InRange(sampled, 60, 140);
            Assert.Equal(200, asked.Count);
            Assert.All(asked, a => Assert.Equal(default, a.Item1));
            var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
            TraceSampling.SampleChild(parent);
            Assert.Equal((parent, parent.TraceId), asked[^1]);
        }
        finally
        {
            TraceSampling.Use(null);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x6f, 0x2d, 0x31 }, "o-1")]
    [InlineData(new byte[] { 0xff, 0xfe }, null)]
    public void KeyText_Utf8Only(byte[] key, string? expected)
    {
        Assert.Equal(expected, MessagingAttributes.KeyText(key));
    }
}
