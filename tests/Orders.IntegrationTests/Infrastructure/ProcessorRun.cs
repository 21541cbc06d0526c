using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orders.Cli.Commands;
using Orders.Cli.Settings;
using Orders.Monitoring;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>
/// The processor's host as <c>orders consume</c> builds it (flags mapped onto the same keys), in
/// this process, with its HTTP endpoint on a free port. Unlike the verb, it keeps serving after
/// the processor finished, until disposed: a test can read /metrics after a complete run.
/// </summary>
internal sealed class ProcessorRun : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly IDisposable _registry;
    private readonly ILoggerFactory _loggers;

    private ProcessorRun(IHost host, IDisposable registry, ILoggerFactory loggers, Uri address)
    {
        _host = host;
        _registry = registry;
        _loggers = loggers;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public ProcessorStatus Processor => _host.Services.GetRequiredService<ProcessorStatus>();

    /// <summary>The processor's summary once it stopped by itself (<c>Processor:UntilIdle</c>).</summary>
    public Task<ProcessorSummary> Completion => _host.Services.GetRequiredService<ProcessorWorker>().Completion;

    /// <param name="settings">Configuration keys, as the verbs' flags set them (<c>Processor:UntilIdle</c>).</param>
    public static async Task<ProcessorRun> StartAsync(string bootstrapServers, string registryUrl, string topic, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var flags = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["SchemaRegistry:Url"] = registryUrl,
            ["Processor:Topic"] = topic,
            ["Processor:GroupId"] = StackFixture.Unique("group"),
            ["Processor:Http:Port"] = "0",
        };
        var appSettings = CliSettings.Load(new SettingsRequest(null, flags, Json: true));
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var registry = appSettings.SchemaRegistryClient();
        var host = ConsumeCommand.ProcessorHost(appSettings, loggers, registry);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var address = await host.Services.GetRequiredService<HttpEndpoint>().Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return new ProcessorRun(host, registry, loggers, address);
    }

    /// <summary>Stops the host (<see cref="IHost.StopAsync"/>), as the verb does when its worker ended by itself; disposing after it is still needed.</summary>
    public Task StopAsync() => _host.StopAsync(CancellationToken.None);

    /// <summary>
    /// Stops the host as Ctrl+C or SIGTERM stops the verb's: the console lifetime fires
    /// <see cref="IHostApplicationLifetime.ApplicationStopping"/> at once, before the host stops its
    /// services; disposing after it is still needed.
    /// </summary>
    public Task SignalAsync()
    {
        _host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        return _host.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
        _registry.Dispose();
        _loggers.Dispose();
    }
}
