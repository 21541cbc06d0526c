using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orders.LocalStack;

namespace Orders.Cli.Hosting;

/// <summary>The local stack as a hosted service: up before the services registered after it start, down after they stopped.</summary>
internal sealed class LocalStackService(LocalStackOptions options, ILoggerFactory loggers) : IHostedService
{
    private LocalStackHost? _stack;

    public LocalStackHost Stack => _stack ?? throw new InvalidOperationException("The local stack has not started.");

    public async Task StartAsync(CancellationToken cancellationToken) => _stack = await LocalStackHost.StartAsync(options, loggers, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stack is { } stack)
        {
            _stack = null;
            await stack.DisposeAsync();
        }
    }
}
