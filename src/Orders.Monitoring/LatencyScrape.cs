using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Orders.Processor.Observability;

namespace Orders.Monitoring;

/// <summary>
/// Adds the processor's latency histograms (<see cref="ProcessorMetrics.WriteLatencies"/>) to what
/// OpenTelemetry's Prometheus exporter answers on <c>/metrics</c>, in the format it negotiated: at
/// the end of the text format, before <c># EOF</c> in OpenMetrics. It runs in the exporter's branch,
/// ahead of it: the exporter writes into a buffer, uncompressed (the request's
/// <c>Accept-Encoding</c> is taken away; the scrape is a few kilobytes), and this copies it out
/// with the histograms in their place. A failed collection is passed on untouched.
/// </summary>
internal static class LatencyScrape
{
    private const string OpenMetricsType = "application/openmetrics-text";
    private const string TextType = "text/plain; version=0.0.4; charset=utf-8";
    private static readonly byte[] Eof = "# EOF\n"u8.ToArray();

    public static void Use(IApplicationBuilder branch, ProcessorMetrics metrics)
    {
        metrics.MeasureLatencies();
        branch.Use(async (context, next) =>
        {
            context.Request.Headers.Remove(HeaderNames.AcceptEncoding);
            var body = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
            }

            var exported = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
            if (context.Response.StatusCode != StatusCodes.Status200OK)
            {
                await body.WriteAsync(exported, context.RequestAborted);
                return;
            }

            // With nothing to export the exporter sets no type: the text format is the one every scraper reads.
            context.Response.ContentType ??= TextType;
            var openMetrics = context.Response.ContentType.StartsWith(OpenMetricsType, StringComparison.OrdinalIgnoreCase);
            var latencies = new StringBuilder();
            metrics.WriteLatencies(latencies, openMetrics);
            var added = Encoding.UTF8.GetBytes(latencies.ToString());
            var head = openMetrics && exported.Span.EndsWith(Eof) ? exported[..^Eof.Length] : exported;
            var tail = openMetrics ? Eof : [];
            context.Response.ContentLength = head.Length + added.Length + tail.Length;
            await body.WriteAsync(head, context.RequestAborted);
            await body.WriteAsync(added, context.RequestAborted);
            await body.WriteAsync(tail, context.RequestAborted);
        });
    }
}
