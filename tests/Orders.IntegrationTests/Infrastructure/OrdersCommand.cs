using System.Text.Json;
using Orders.Cli;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>Runs the <c>orders</c> command in-process, as a user would type it, and reads its JSON summary.</summary>
internal static class OrdersCommand
{
    public static async Task<JsonElement> RunJsonAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync([.. args, "--json"], stdout, stderr);
        Assert.True(exit == 0, $"orders {string.Join(' ', args)} exited {exit}: {stderr}");
        return JsonDocument.Parse(stdout.ToString()).RootElement.Clone();
    }

    public static string[] Endpoints(StackFixture fixture, string topic) =>
        ["--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic];
}
