using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>A span as an OTLP exporter sent it: ids in lowercase hex, as in a <c>traceparent</c>.</summary>
internal sealed record ReceivedSpan(
    string Service,
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<(string Name, IReadOnlyDictionary<string, object?> Attributes)> Events,
    IReadOnlyList<(string TraceId, string SpanId)> Links,
    int StatusCode,
    string StatusMessage)
{
    /// <summary>OTLP's span kinds.</summary>
    public const int Producer = 4, Consumer = 5;

    /// <summary>OTLP's status codes.</summary>
    public const int StatusError = 2;

    public string? Text(string attribute) => Attributes.TryGetValue(attribute, out var value) ? value?.ToString() : null;
}

/// <summary>
/// An OTLP/HTTP trace receiver for tests: accepts <c>POST /v1/traces</c> in protobuf (as
/// OpenTelemetry's exporters send it) and keeps every span. It decodes the wire format itself with
/// Google.Protobuf's reader, field numbers from opentelemetry-proto's trace.proto: nothing of the
/// exporter under test is used to read what it sent.
/// </summary>
internal sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly Task _loop;
    private int _requests;

    private OtlpReceiver(int port)
    {
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The base address, for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string Endpoint { get; }

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>When set, every export is answered with this status and its spans are not kept: a collector in trouble.</summary>
    public HttpStatusCode? RefuseWith { get; set; }

    public static OtlpReceiver Start() => new(OrdersProcess.FreePort());

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener closed under a pending GetContext.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            if (context.Request.HttpMethod != "POST" || context.Request.Url?.AbsolutePath != "/v1/traces")
            {
                response.StatusCode = 404;
                continue;
            }

            if (RefuseWith is { } refusal)
            {
                Interlocked.Increment(ref _requests);
                response.StatusCode = (int)refusal;
                continue;
            }

            using var body = new MemoryStream();
            var input = context.Request.Headers["Content-Encoding"] == "gzip"
                ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                : context.Request.InputStream;
            await input.CopyToAsync(body);
            try
            {
                foreach (var span in ExportRequest(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }

                Interlocked.Increment(ref _requests);
                // An empty ExportTraceServiceResponse: everything accepted.
                response.StatusCode = 200;
                response.ContentType = "application/x-protobuf";
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
            {
                response.StatusCode = 400;
            }
        }
    }

    /// <summary>ExportTraceServiceRequest: 1 resource_spans.</summary>
    private static IEnumerable<ReceivedSpan> ExportRequest(byte[] bytes) =>
        Fields(bytes).Where(f => f.Number == 1).SelectMany(f => ResourceSpans(f.Bytes!));

    /// <summary>ResourceSpans: 1 resource (1 attributes), 2 scope_spans (1 scope (1 name), 2 spans).</summary>
    private static IEnumerable<ReceivedSpan> ResourceSpans(byte[] bytes)
    {
        var fields = Fields(bytes).ToList();
        var resource = fields.Where(f => f.Number == 1).SelectMany(f => Fields(f.Bytes!)).Where(f => f.Number == 1).Select(f => KeyValue(f.Bytes!)).ToDictionary();
        var service = resource.GetValueOrDefault("service.name")?.ToString() ?? "";
        foreach (var scopeSpans in fields.Where(f => f.Number == 2).Select(f => Fields(f.Bytes!).ToList()))
        {
            var scope = scopeSpans.Where(f => f.Number == 1).SelectMany(f => Fields(f.Bytes!)).Where(f => f.Number == 1).Select(f => f.Text).FirstOrDefault() ?? "";
            foreach (var span in scopeSpans.Where(f => f.Number == 2))
            {
                yield return Span(service, scope, span.Bytes!);
            }
        }
    }

    /// <summary>Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes, 11 events, 13 links, 15 status.</summary>
    private static ReceivedSpan Span(string service, string scope, byte[] bytes)
    {
        var fields = Fields(bytes).ToList();
        string Hex(int number) => fields.Where(f => f.Number == number).Select(f => Convert.ToHexStringLower(f.Bytes!)).FirstOrDefault() ?? "";
        var status = fields.Where(f => f.Number == 15).Select(f => Fields(f.Bytes!).ToList()).FirstOrDefault() ?? [];
        return new ReceivedSpan(
            service,
            scope,
            Hex(1),
            Hex(2),
            Hex(4),
            fields.Where(f => f.Number == 5).Select(f => f.Text).FirstOrDefault() ?? "",
            (int)(fields.FirstOrDefault(f => f.Number == 6).Varint),
            fields.Where(f => f.Number == 9).Select(f => KeyValue(f.Bytes!)).ToDictionary(),
            [.. fields.Where(f => f.Number == 11).Select(f => Event(f.Bytes!))],
            [.. fields.Where(f => f.Number == 13).Select(f => Link(f.Bytes!))],
            (int)(status.FirstOrDefault(f => f.Number == 3).Varint),
            status.Where(f => f.Number == 2).Select(f => f.Text).FirstOrDefault() ?? "");
    }

    /// <summary>Event: 2 name, 3 attributes.</summary>
    private static (string, IReadOnlyDictionary<string, object?>) Event(byte[] bytes)
    {
        var fields = Fields(bytes).ToList();
        return (fields.Where(f => f.Number == 2).Select(f => f.Text).FirstOrDefault() ?? "", fields.Where(f => f.Number == 3).Select(f => KeyValue(f.Bytes!)).ToDictionary());
    }

    /// <summary>Link: 1 trace_id, 2 span_id.</summary>
    private static (string, string) Link(byte[] bytes)
    {
        var fields = Fields(bytes).ToList();
        return (Convert.ToHexStringLower(fields.First(f => f.Number == 1).Bytes!), Convert.ToHexStringLower(fields.First(f => f.Number == 2).Bytes!));
    }

    /// <summary>KeyValue: 1 key, 2 value (AnyValue: 1 string, 2 bool, 3 int64, 4 double; others kept as bytes).</summary>
    private static KeyValuePair<string, object?> KeyValue(byte[] bytes)
    {
        var fields = Fields(bytes).ToList();
        var key = fields.First(f => f.Number == 1).Text;
        var value = fields.Where(f => f.Number == 2).Select(f => Fields(f.Bytes!).FirstOrDefault()).FirstOrDefault();
        object? decoded = value.Number switch
        {
            1 => value.Text,
            2 => value.Varint != 0,
            3 => (long)value.Varint,
            4 => BitConverter.Int64BitsToDouble((long)value.Varint),
            0 => null,
            _ => value.Bytes,
        };
        return new(key, decoded);
    }

    private readonly record struct Field(int Number, ulong Varint, byte[]? Bytes)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes ?? []);
    }

    /// <summary>A message's fields in order: varints and fixed numbers as their bits, length-delimited ones as bytes.</summary>
    private static IEnumerable<Field> Fields(byte[] bytes)
    {
        var fields = new List<Field>();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            fields.Add(WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => new Field(number, input.ReadUInt64(), null),
                WireFormat.WireType.Fixed64 => new Field(number, input.ReadFixed64(), null),
                WireFormat.WireType.Fixed32 => new Field(number, input.ReadFixed32(), null),
                WireFormat.WireType.LengthDelimited => new Field(number, 0, input.ReadBytes().ToByteArray()),
                _ => throw new InvalidDataException($"wire type {WireFormat.GetTagWireType(tag)} in field {number}"),
            });
        }

        return fields;
    }
}
