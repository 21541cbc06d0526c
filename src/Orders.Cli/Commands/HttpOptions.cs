using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orders.Monitoring;

namespace Orders.Cli.Commands;

/// <summary>
/// The flags of a component's HTTP endpoint (<c>/metrics</c>, <c>/health/*</c>, the processor's
/// dashboard), mapped onto its configuration keys (<c>Processor:Http:Port</c>, <c>:Host</c>,
/// <c>:Enabled</c>), so appsettings.json and environment variables (<c>Processor__Http__Port</c>) set the same.
/// </summary>
/// <param name="onByDefault">The processor serves by default (<c>--no-http</c> turns it off); the producer only when given a port.</param>
internal sealed class HttpOptions(string section, bool onByDefault)
{
    public Option<int?> Port { get; } = PortOption(onByDefault);

    public Option<string?> Host { get; } = new("--http-host")
    {
        Description = "Address the HTTP endpoint listens on: an IP address, localhost, or * for every interface (default 127.0.0.1; it has no authentication).",
    };

    public Option<bool> Disabled { get; } = new("--no-http") { Description = "Serve no HTTP endpoint." };

    public void AddTo(Command command)
    {
        command.Options.Add(Port);
        command.Options.Add(Host);
        if (onByDefault)
        {
            command.Options.Add(Disabled);
        }
    }

    /// <summary>Adds the flags given (and only those) to <paramref name="flags"/> under the section's keys.</summary>
    public void MapTo(ParseResult parseResult, IDictionary<string, string?> flags)
    {
        if (parseResult.GetValue(Port) is { } port)
        {
            flags[$"{section}:Http:Port"] = port.ToString(CultureInfo.InvariantCulture);
        }

        if (parseResult.GetValue(Host) is { } host)
        {
            flags[$"{section}:Http:Host"] = host;
        }

        if (onByDefault && parseResult.GetValue(Disabled))
        {
            flags[$"{section}:Http:Enabled"] = "false";
        }
    }

    /// <summary>The one line for a host that could not start (its endpoint, or bad settings), or null when the failure is something else.</summary>
    public string? DescribeStartFailure(Exception e, IHost host) => e switch
    {
        OptionsValidationException invalid => invalid.Failures.First(),
        // The configuration binder's: "Failed to convert configuration value 'x' at 'Processor:Http:Port' to type 'System.Int32'."
        InvalidOperationException { InnerException: ArgumentException or FormatException } => $"bad configuration: {e.Message}",
        // Kestrel could not bind: the port is taken, or not ours to take.
        IOException when host.Services.GetService<IOptions<HttpEndpointOptions>>()?.Value is { } http =>
            $"HTTP port {http.Port} on {http.Host} {(e.InnerException is AddressInUseException ? "is in use" : $"cannot be used ({e.Message})")}: " +
            "choose another with --http-port (0 picks a free one)" + (onByDefault ? ", or turn it off with --no-http" : ""),
        _ => null,
    };

    private static Option<int?> PortOption(bool onByDefault)
    {
        var option = new Option<int?>("--http-port")
        {
            Description = onByDefault
                ? "Port of /metrics, /health/live, /health/ready and the dashboard (default 8080; 0 picks a free port, logged at start)."
                : "Serve /metrics, /health/live and /health/ready on this port (default: none; 0 picks a free port, logged at start).",
        };
        option.Validators.Add(result =>
        {
            int? value;
            try
            {
                value = result.GetValueOrDefault<int?>();
            }
            catch (InvalidOperationException)
            {
                // Not a number: the parser reports that itself.
                return;
            }

            if (value is < 0 or > 65535)
            {
                result.AddError($"--http-port must be a TCP port between 0 and 65535 (0 picks a free one), not {value}");
            }
        });
        return option;
    }
}
