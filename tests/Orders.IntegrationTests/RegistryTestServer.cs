using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orders.IntegrationTests.Infrastructure;
using Orders.SchemaRegistry;
using Orders.SchemaRegistry.Storage;

namespace Orders.IntegrationTests;

/// <summary>
/// A registry of its own on a free loopback port, as the health tests start one, with its logs
/// captured: these tests look at what it logs, and some load it on purpose.
/// </summary>
public sealed class RegistryTestServer : IAsyncLifetime
{
    public const string MediaType = "application/vnd.schemaregistry.v1+json";

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private RegistryServer? _registry;

    public RegistryTestServer()
        : this(new SchemaStore())
    {
    }

    private RegistryTestServer(SchemaStore store) => Store = store;

    public SchemaStore Store { get; }

    public CapturingLoggerFactory Logs { get; } = new();

    public HttpClient Http { get; private set; } = null!;

    public Uri Url => _registry?.Url ?? throw new InvalidOperationException("The registry has not started.");

    /// <summary>A registry over a store of the caller's (e.g. with a budget of its own), started.</summary>
    public static async Task<RegistryTestServer> StartAsync(SchemaStore store)
    {
        var server = new RegistryTestServer(store);
        await server.InitializeAsync();
        return server;
    }

    public async ValueTask InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync(new RegistryOptions { Port = 0 }, Store, Logs);
        Http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    /// <summary>Sends a request with a body of raw bytes (null: no body).</summary>
    public async Task<Answer> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(MediaType);
        }

        var watch = Stopwatch.StartNew();
        using var response = await Http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return new Answer(response.StatusCode, text, watch.Elapsed);
    }

    public Task<Answer> SendAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken) =>
        SendAsync(method, path, body is null ? null : Encoding.UTF8.GetBytes(body), cancellationToken);

    /// <summary>Sends a schema as Confluent's clients do: <c>{"schema": "..."}</c>, its quotes escaped as \" (not \u0022, which would make large schemas too large).</summary>
    public Task<Answer> PostSchemaAsync(string path, string schema, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(new { schema }, RelaxedJson), cancellationToken);

    /// <summary>Writes raw bytes to a connection of its own and reads whatever comes back until the server closes it or goes quiet.</summary>
    public async Task<string> SendRawAsync(byte[] request, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Url.Port), cancellationToken);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            // The answer is whatever arrived before the server went quiet or reset the connection.
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>What the registry logged at warning level or above after the first <paramref name="logged"/> entries: these tests expect nothing there, least of all a stack trace.</summary>
    public IReadOnlyList<LogEntry> WarningsSince(int logged) => [.. Logs.Entries.Skip(logged).Where(e => e.Level >= LogLevel.Warning)];

    public sealed record Answer(HttpStatusCode Status, string Body, TimeSpan Elapsed)
    {
        public int Code => (int)Status;

        /// <summary>The Confluent error code of an error answer (asserting the body is Confluent's error JSON).</summary>
        public int ErrorCode()
        {
            using var json = JsonDocument.Parse(Body);
            Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("message").GetString()), Body);
            return json.RootElement.GetProperty("error_code").GetInt32();
        }

        public override string ToString() => $"{Code} in {Elapsed.TotalMilliseconds:F0} ms: {(Body.Length > 300 ? Body[..300] + "..." : Body)}";
    }
}
