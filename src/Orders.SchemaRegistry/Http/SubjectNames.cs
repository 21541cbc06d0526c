using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Orders.SchemaRegistry.Http;

/// <summary>
/// Subject names in paths are URL-decoded path segments, as in Confluent's registry:
/// <c>/subjects/py%2Fslash/versions</c> names the subject <c>py/slash</c>. Kestrel decodes every
/// escape of the path except <c>%2F</c> (a decoded '/' would make a new segment), so route
/// values keep <c>%2F</c>, and a literal <c>%2F</c> (sent as <c>%252F</c>) looks the same.
/// Decoding the raw segment of the request line, as Confluent does, tells the two apart.
/// </summary>
internal static class SubjectNames
{
    public const string RouteValue = "subject";

    /// <summary>Replaces the <c>subject</c> route value with its decoded raw segment; after routing, before the endpoints.</summary>
    public static IApplicationBuilder UseDecodedSubjectNames(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is RouteEndpoint endpoint
                && context.Request.RouteValues.ContainsKey(RouteValue)
                && Decode(context.Features.Get<IHttpRequestFeature>()?.RawTarget, context.Request.Path, endpoint.RoutePattern) is { } subject)
            {
                context.Request.RouteValues[RouteValue] = subject;
            }

            return next(context);
        });

    /// <returns>
    /// The subject named by the raw request target, or null to keep the route value: when the
    /// route has no <c>{subject}</c> segment, or the raw path's segments do not line up with the
    /// path Kestrel routed (dot segments it resolved).
    /// </returns>
    internal static string? Decode(string? rawTarget, PathString routedPath, RoutePattern pattern) =>
        SegmentIndex(pattern) is int index
        && RawSegments(rawTarget) is { } raw
        && raw.Length == SegmentCount(routedPath)
        && index < raw.Length
            ? Uri.UnescapeDataString(raw[index])
            : null;

    /// <summary>The path segments of a request target (origin or absolute form), still escaped; null if it has none, or dot segments that Kestrel would have removed.</summary>
    private static string[]? RawSegments(string? rawTarget)
    {
        if (string.IsNullOrEmpty(rawTarget))
        {
            return null;
        }

        var path = rawTarget;
        if (path[0] != '/')
        {
            // Absolute form: http://host:port/path?query
            var authority = path.IndexOf("://", StringComparison.Ordinal);
            var slash = authority < 0 ? -1 : path.IndexOf('/', authority + 3);
            if (slash < 0)
            {
                return null;
            }

            path = path[slash..];
        }

        var end = path.IndexOfAny(['?', '#']);
        var segments = (end < 0 ? path : path[..end])[1..].Split('/');
        // Kestrel resolves "." and ".." before routing, so their segments no longer line up with the route's.
        return segments.Any(s => Uri.UnescapeDataString(s) is "." or "..") ? null : segments;
    }

    /// <summary>The position of the segment that is exactly <c>{subject}</c> in a route.</summary>
    private static int? SegmentIndex(RoutePattern pattern)
    {
        for (var i = 0; i < pattern.PathSegments.Count; i++)
        {
            if (pattern.PathSegments[i].Parts is [RoutePatternParameterPart { Name: RouteValue }])
            {
                return i;
            }
        }

        return null;
    }

    private static int SegmentCount(PathString path) => path.HasValue ? path.Value!.Count(c => c == '/') : 0;
}
