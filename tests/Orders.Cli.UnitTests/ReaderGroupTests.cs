using Orders.Cli.Settings;
using Orders.DeadLetters;
using Orders.Kafka;

namespace Orders.Cli.UnitTests;

/// <summary>
/// The group ids of <c>orders stats</c> and <c>orders dlq</c>'s readers, which join no group but
/// still need ACLs on a secured cluster: derived from the processors' group, however it is set.
/// </summary>
public sealed class ReaderGroupTests
{
    private static CliSettings Load(Dictionary<string, string?> flags) =>
        CliSettings.Load(new SettingsRequest(null, new Dictionary<string, string?>(flags) { ["Kafka:BootstrapServers"] = "127.0.0.1:1" }, Json: false));

    [Fact]
    public void TheReaders_DeriveTheirGroupIds_FromProcessorGroupId()
    {
        var settings = Load(new() { ["Processor:GroupId"] = "team-a" });

        using var range = new PartitionRangeReader(settings.ReaderConfig(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var letters = new TopicReader(settings.ReaderConfig(), TimeSpan.FromSeconds(1), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal("team-a.reader", range.GroupId);
        Assert.Equal("team-a.dlq-reader", letters.GroupId);
    }

    [Fact]
    public void WithoutAGroupSetting_TheReadersDeriveFromTheDefaultGroup()
    {
        using var range = new PartitionRangeReader(Load([]).ReaderConfig(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal("order-processor.reader", range.GroupId);
    }

    [Fact]
    public void AnEmptyGroup_IsASettingsError()
    {
        var error = Assert.Throws<SettingsException>(() => Load(new() { ["Processor:GroupId"] = "" }).ReaderConfig());

        Assert.Contains("Processor:GroupId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AReaderGivenNoGroup_IsRefused_RatherThanGivenAFixedId() =>
        Assert.Throws<ArgumentException>(() => new PartitionRangeReader(new Confluent.Kafka.ConsumerConfig { BootstrapServers = "127.0.0.1:1" }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
}
