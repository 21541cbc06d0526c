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

    [Theory]
    [InlineData(new byte[] { 0x6f, 0x2d, 0x31 }, "o-1")]
    [InlineData(new byte[] { 0xff, 0xfe }, null)]
    public void KeyText_Utf8Only(byte[] key, string? expected)
    {
        Assert.Equal(expected, MessagingAttributes.KeyText(key));
    }
}
