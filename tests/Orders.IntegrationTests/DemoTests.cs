using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

public sealed class DemoTests
{
    [Fact]
    public async Task Demo_RunsStackProducerAndProcessor_AndReportsBoth()
    {
        var summary = await OrdersCommand.RunJsonAsync(
            ["demo", "--duration", "6", "--rate", "100", "--kafka-port", OrdersProcess.FreePort().ToString(), "--registry-port", OrdersProcess.FreePort().ToString()]);

        var produced = summary.GetProperty("producer").GetProperty("produced").GetInt64();
        var processor = summary.GetProperty("processor");
        var handled = processor.GetProperty("processed").GetInt64() + processor.GetProperty("deadLettered").GetProperty("total").GetInt64();
        Assert.True(produced > 100, $"produced only {produced}");
        Assert.True(processor.GetProperty("processed").GetInt64() > 0);
        Assert.InRange(handled, 1, produced);
        // The generator writes EUR, USD and GBP (3:2:1): each has its own mean, and there is no mean across them.
        Assert.All(processor.GetProperty("currencies").EnumerateObject(), c => Assert.True(c.Value.GetProperty("price").GetProperty("mean").GetDouble() > 0, c.Name));
        Assert.True(processor.GetProperty("currencies").TryGetProperty("EUR", out _));
        Assert.False(processor.TryGetProperty("average", out _));
    }
}
