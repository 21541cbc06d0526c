using System.Net;
using Orders.Cli;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// A registry URL that reaches a web server, not a Schema Registry: every request answered 404 with an
/// HTML page, as a proxy or a URL with the wrong path or port answers. Each command that needs the
/// registry ends with one line naming the HTTP status and the setting to check (before: "; error code: -1").
/// </summary>
[Collection(StackCollection.Name)]
public sealed class NotARegistryTests(StackFixture fixture) : IDisposable
{
    private const string Expected = "HTTP 404 (NotFound) with no Schema Registry error in the body: is SchemaRegistry:Url (--schema-registry) the registry's address?";

    private readonly string _url = $"http://127.0.0.1:{OrdersProcess.FreePort()}";
    private HttpListener? _listener;

    public void Dispose() => _listener?.Close();

    [Fact]
    public async Task Produce_AgainstAWebServerAnswering404_EndsWithTheStatusAndTheSettingToCheck()
    {
        var topic = fixture.CreateOrderTopics("not-a-registry-produce");
        var (exit, stderr) = await RunAsync(["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", _url, "--topic", topic, "--count", "5"]);

        Assert.Equal(OrdersCli.ExitFailure, exit);
        Assert.Contains(Expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("error code: -1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_AgainstAWebServerAnswering404_EndsWithTheStatusAndTheSettingToCheck()
    {
        var topic = fixture.CreateOrderTopics("not-a-registry-consume");
        var (exit, stderr) = await RunAsync(["consume", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", _url, "--topic", topic, "--until-idle", "5", "--no-http"]);

        Assert.Equal(OrdersCli.ExitFailure, exit);
        Assert.Contains(Expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("error code: -1", stderr, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Stderr)> RunAsync(string[] args)
    {
        _listener = StartListener(_url);
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync(args, new StringWriter(), stderr);
        return (exit, stderr.ToString());
    }

    private static HttpListener StartListener(string url)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add(url + "/");
        listener.Start();
        _ = Task.Run(async () =>
        {
            var page = "<html><body><h1>404 Not Found</h1></body></html>"u8.ToArray();
            while (listener.IsListening)
            {
                try
                {
                    var context = await listener.GetContextAsync();
                    context.Response.StatusCode = 404;
                    context.Response.ContentType = "text/html";
                    await context.Response.OutputStream.WriteAsync(page);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        return listener;
    }
}
