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
        Assert.True(processor.GetProperty("average").GetProperty("mean").GetDouble() > 0);
    }
}
