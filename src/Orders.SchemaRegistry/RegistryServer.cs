using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orders.SchemaRegistry.Http;
using Orders.SchemaRegistry.Security;
using Orders.SchemaRegistry.Storage;

namespace Orders.SchemaRegistry;

public sealed class RegistryOptions
{
    /// <summary>Port on the loopback interfaces; 0 picks a free one.</summary>
    public int Port { get; set; } = 8081;

    /// <summary>Where schemas are kept across restarts; null keeps them in memory only.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>When set, every endpoint requires HTTP basic authentication as one of these users; null: open.</summary>
    public RegistryUsers? Users { get; set; }
}

/// <summary>Thrown when a port the stack needs cannot be bound: taken by another process, or not allowed.</summary>
public sealed class PortInUseException(int port, string component, Exception inner)
    : Exception($"port {port} ({component}) {Describe(inner)}", inner)
{
    public int Port { get; } = port;

    /// <summary>What wanted the port: "kafka" or "schema-registry".</summary>
    public string Component { get; } = component;

    /// <summary>"is already in use", or why else it could not be bound.</summary>
    public string Reason => Describe(InnerException);

    private static string Describe(Exception? inner) =>
        (inner as System.Net.Sockets.SocketException ?? inner?.InnerException as System.Net.Sockets.SocketException)?.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.AccessDenied => "cannot be bound: permission denied",
            _ => "is already in use",
        };
}

/// <summary>Runs the registry on Kestrel, bound to loopback only.</summary>
public sealed partial class RegistryServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RegistryServer(WebApplication app, SchemaStore store, Uri url, bool requiresAuthentication)
    {
        _app = app;
        Store = store;
        Url = url;
        RequiresAuthentication = requiresAuthentication;
    }

    public Uri Url { get; }

    /// <summary>Whether clients must send basic-auth credentials (<see cref="RegistryOptions.Users"/>).</summary>
    public bool RequiresAuthentication { get; }

    public SchemaStore Store { get; }

    /// <param name="store">An existing store to serve (e.g. to restart on the same state); by default a new one.</param>
    public static async Task<RegistryServer> StartAsync(
        RegistryOptions options, SchemaStore? store = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        store ??= new SchemaStore(options.DataDirectory);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(RegistryServer).Assembly.GetName().Name });
        // The host's own logging stays out of the way; failures the registry did not expect are logged below.
        builder.Logging.ClearProviders();
        var logger = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<RegistryServer>();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Our own reader enforces the 1 MiB limit with a JSON error; Kestrel's would answer without one.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });

        var app = builder.Build();
        if (options.Users is { } users)
        {
            // First, so that no endpoint, not even an unknown path, answers without credentials.
            app.UseBasicAuthentication(users, logger);
        }

        app.UseExceptionHandler(error => error.Run(async context =>
        {
            var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, code, message) = exception switch
            {
                RegistryException r => (r.HttpStatus, r.ErrorCode, r.Message),
                BadHttpRequestException b => (b.StatusCode, b.StatusCode, b.Message),
                _ => (500, 50001, "Error in the backend data store: " + exception?.Message),
            };
            if (status >= 500)
            {
                LogUnexpected(logger, context.Request.Method, context.Request.Path, exception);
            }

            context.Response.StatusCode = status;
            context.Response.ContentType = RegistryApi.ContentType;
            await context.Response.WriteAsync(RegistryApi.ErrorJson(code, message));
        }));
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
            {
                // The client has gone, and its request's work has stopped: nothing to answer, nothing went wrong.
                LogAbandoned(logger, context.Request.Method, context.Request.Path);
                if (!context.Response.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                }
            }
        });
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            response.ContentType = RegistryApi.ContentType;
            var message = response.StatusCode switch
            {
                404 => "HTTP 404 Not Found",
                405 => "HTTP 405 Method Not Allowed",
                _ => $"HTTP {response.StatusCode}",
            };
            await response.WriteAsync(RegistryApi.ErrorJson(response.StatusCode, message));
        });
        app.Use((context, next) =>
        {
            // Jersey, which Confluent's registry runs on, answers HEAD wherever it answers GET: the same
            // status and headers, no body (Kestrel writes none for a HEAD request, whatever the handler writes).
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
            }

            return next(context);
        });
        app.UseRouting();
        app.UseDecodedSubjectNames();
        app.MapRegistryApi(store);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse or SocketError.AccessDenied }
            || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await app.DisposeAsync();
            throw new PortInUseException(options.Port, "schema-registry", e);
        }

        var address = app.Urls.First();
        return new RegistryServer(app, store, new Uri(address), options.Users is not null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [LoggerMessage(1, LogLevel.Error, "Schema Registry failed on {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, Exception? exception);

    [LoggerMessage(3, LogLevel.Debug, "Schema Registry stopped {Method} {Path}: the client closed the connection")]
    private static partial void LogAbandoned(ILogger logger, string method, string path);
}
