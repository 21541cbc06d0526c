using System.CommandLine;
using System.Globalization;

namespace Orders.Cli.Commands;

/// <summary>
/// The flags of a component's HTTP endpoint (<c>/metrics</c>, <c>/health/*</c>, the dashboard),
/// mapped onto its configuration keys (<c>Processor:Http:Port</c>, <c>:Host</c>, <c>:Enabled</c>),
/// so appsettings.json and environment variables (<c>Processor__Http__Port</c>) set the same.
/// </summary>
internal sealed class HttpOptions(string section)
{
    public Option<int?> Port { get; } = PortOption();

    public Option<string?> Host { get; } = new("--http-host")
    {
        Description = "Address the HTTP endpoint listens on: an IP address, localhost, or * for every interface (default 127.0.0.1; it has no authentication).",
    };

    public Option<bool> Disabled { get; } = new("--no-http") { Description = "Serve no HTTP endpoint." };

    public void AddTo(Command command)
    {
        command.Options.Add(Port);
        command.Options.Add(Host);
        command.Options.Add(Disabled);
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

        if (parseResult.GetValue(Disabled))
        {
            flags[$"{section}:Http:Enabled"] = "false";
        }
    }

    private static Option<int?> PortOption()
    {
        var option = new Option<int?>("--http-port")
        {
            Description = "Port of /metrics, /health/live, /health/ready and the dashboard (default 8080; 0 picks a free port, logged at start).",
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
