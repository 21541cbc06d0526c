using Microsoft.Extensions.Logging;
using Orders.Cli.Settings;

namespace Orders.Cli.UnitTests;

/// <summary>The health check service's line per failing check per probe is off, unless the Logging section turns it on.</summary>
public sealed class HealthCheckLoggingTests
{
    // The category the service logs under (Microsoft.Extensions.Diagnostics.HealthChecks' DefaultHealthCheckService).
    private const string Service = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    private static CliSettings Load(Dictionary<string, string?> settings) =>
        CliSettings.Load(new SettingsRequest(null, new Dictionary<string, string?>(settings) { ["Kafka:BootstrapServers"] = "127.0.0.1:1" }, Json: false));

    [Fact]
    public void ByDefault_NoProbeResultIsLogged_WhileTheVerbsOwnLinesAre()
    {
        using var loggers = Load([]).CreateLoggerFactory();
        using var live = Load([]).CreateLiveViewLoggerFactory();

        Assert.False(loggers.CreateLogger(Service).IsEnabled(LogLevel.Error));
        Assert.False(live.CreateLogger(Service).IsEnabled(LogLevel.Error));
        Assert.True(loggers.CreateLogger("Orders.Processor.ProcessorWorker").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void TheLoggingSection_TurnsThemOnAgain()
    {
        using var loggers = Load(new() { ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Warning" }).CreateLoggerFactory();

        Assert.True(loggers.CreateLogger(Service).IsEnabled(LogLevel.Warning));
        Assert.False(loggers.CreateLogger(Service).IsEnabled(LogLevel.Information));
    }
}
