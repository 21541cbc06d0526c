using System.Text.Json;

namespace Orders.Cli.UnitTests;

/// <summary>
/// The runtime settings the `orders` binary ships with (its runtimeconfig.json, built from
/// Orders.Cli.csproj and copied beside this test): why each is there is measured in docs/BENCHMARKS.md.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void TheOrdersBinary_CountsCallsAtOnce_AndPromotesAfter3000()
    {
        var properties = ConfigProperties();

        Assert.Equal(0, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
        Assert.Equal(3000, properties.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32());
    }

    [Fact]
    public void TheBuiltBinary_TurnsDynamicPgoOff_AndKeepsTieringAndQuickJit()
    {
        // Built without ReadyToRun images (this one is), dynamic PGO cost a cold and a warm drain ~20%;
        // a publish for a platform keeps it, which .ci/run checks on its publish.
        var properties = ConfigProperties();

        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
        foreach (var name in new[] { "System.Runtime.TieredCompilation", "System.Runtime.TieredCompilation.QuickJit" })
        {
            Assert.False(properties.TryGetProperty(name, out _), $"{name} is set in orders.runtimeconfig.json");
        }
    }

    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "orders.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
