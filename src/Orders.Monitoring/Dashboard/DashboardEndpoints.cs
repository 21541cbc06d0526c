using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orders.Processor.Hosting;

namespace Orders.Monitoring.Dashboard;

/// <summary>
/// The dashboard: one page and its script and style, embedded in this assembly; its state as
/// server-sent events (<c>/events</c>, one <c>state</c> event per interval) and as a plain
/// document (<c>/api/state</c>).
/// </summary>
internal static class DashboardEndpoints
{
    private static readonly (string Path, string Resource, string ContentType)[] Assets =
    [
        ("/", "dashboard/index.html", "text/html; charset=utf-8"),
        ("/dashboard.js", "dashboard/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "dashboard/dashboard.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "dashboard/favicon.svg", "image/svg+xml"),
    ];

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        foreach (var (path, resource, contentType) in Assets)
        {
            var bytes = Read(resource);
            endpoints.MapGet(path, (HttpContext context) =>
            {
                // Everything the page needs comes from here; nothing inline, nothing from elsewhere.
                context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                context.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, contentType);
            });
        }

        endpoints.MapGet("/api/state", (HttpContext context, DashboardFeed feed) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(feed.CurrentJson(), "application/json; charset=utf-8");
        });
        endpoints.MapGet("/events", IResult (HttpContext context, DashboardFeed feed, IHostApplicationLifetime lifetime, IOptions<HttpEndpointOptions> options) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            if (context.Items.ContainsKey(MonitoringHostingExtensions.HeadRequest))
            {
                // A HEAD gets the stream's headers and ends: a stream without a body would never end, holding the connection.
                context.Response.ContentType = "text/event-stream";
                return Results.Empty;
            }

            var processor = context.RequestServices.GetService<ProcessorWorker>()?.Completion;
            return TypedResults.ServerSentEvents(StreamAsync(feed, options.Value.DashboardInterval, lifetime.ApplicationStopping, processor, context.RequestAborted), eventType: "state");
        });
        return endpoints;
    }

    /// <summary>
    /// One state per interval until the client goes, or until the host is stopping and the processor
    /// (when the host runs one) has ended; then the state at that moment, and the end. So an open page
    /// sees the processor's stop ("stopping", while it checkpoints and leaves its group: the host waits
    /// for that before it stops the server, <see cref="Orders.Hosting.FirstToStopService"/>), and does
    /// not hold up the server's stop after it.
    /// </summary>
    private static async IAsyncEnumerable<string> StreamAsync(
        DashboardFeed feed,
        TimeSpan interval,
        CancellationToken stopping,
        Task? processor,
        CancellationToken requestAborted,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, cancellationToken);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = stopping.Register(() => stopped.TrySetResult());
        // Its failure is the processor's to report, not the stream's.
        var closed = processor is null ? stopped.Task : Task.WhenAll(stopped.Task, processor.ContinueWith(_ => { }, TaskScheduler.Default));
        while (!done.IsCancellationRequested && !closed.IsCompleted)
        {
            yield return feed.CurrentJson();
            // WhenAny never throws: a delay cut short by the client going ends the loop.
            await Task.WhenAny(Task.Delay(interval, done.Token), closed);
        }

        if (!done.IsCancellationRequested)
        {
            yield return feed.CurrentJson();
        }
    }

    private static byte[] Read(string resource)
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The dashboard asset {resource} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
