using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Orders.Tests.Shared;

namespace Orders.IntegrationTests;

/// <summary>
/// The README's Confluent Cloud recipe typed into a shell as written: its exports arrive. Its
/// addresses are pointed here instead (the last exports win), and `orders produce` must then open
/// TLS to the broker address, which only SASL_SSL, set by `export Kafka__SecurityProtocol`, does.
/// </summary>
public sealed class RecipeTests
{
    [Theory]
    [InlineData("bash")]
    [InlineData("dash")]
    public async Task TheConfluentCloudRecipe_TypedIntoAShell_MakesTheClientSpeakTls(string shell)
    {
        var program = DocumentedShell.Find(shell);
        if (program is null)
        {
            var reason = $"{shell} is not installed: the recipe cannot be run in it";
            if (Environment.GetEnvironmentVariable("ORDERS_REQUIRE_INTEROP") == "1")
            {
                Assert.Fail(reason);
            }

            Assert.Skip(reason);
        }

        var recipe = ConfluentCloudRecipe();
        using var broker = new TcpListener(IPAddress.Loopback, 0);
        broker.Start();
        var port = ((IPEndPoint)broker.LocalEndpoint).Port;
        var script = string.Join('\n', [
            .. recipe.Lines.Where(l => !l.StartsWith("dotnet run ", StringComparison.Ordinal)),
            $"export Kafka__BootstrapServers=127.0.0.1:{port}",
            "export SchemaRegistry__Url=http://127.0.0.1:1",
            $"exec dotnet '{Path.Combine(AppContext.BaseDirectory, "orders.dll")}' produce --count 1",
        ]);
        using var process = Process.Start(new ProcessStartInfo(program, ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            using var connection = await broker.AcceptTcpClientAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            var first = new byte[2];
            await connection.GetStream().ReadExactlyAsync(first, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

            // A TLS handshake record (0x16) of TLS 1.x (0x03): Kafka's plaintext protocol would start with a 4-byte length.
            Assert.True(first is [0x16, 0x03], $"the client opened with {Convert.ToHexString(first)}, not a TLS handshake");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        Assert.DoesNotContain("not a valid identifier", await stderr, StringComparison.Ordinal);
    }

    private static ShellBlock ConfluentCloudRecipe()
    {
        var readme = File.ReadAllLines(Path.Combine(DocumentedShell.Root, "README.md"));
        var heading = Array.FindIndex(readme, l => l.StartsWith("### Confluent Cloud", StringComparison.Ordinal));
        Assert.True(heading >= 0, "README.md has no \"### Confluent Cloud\" section");
        return DocumentedShell.BlocksOf("README.md").First(b => b.Line > heading + 1);
    }
}
