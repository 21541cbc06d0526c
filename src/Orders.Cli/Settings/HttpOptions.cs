using System.CommandLine;

namespace Orders.Cli.Settings;

/// <summary>
/// The flags of a component's HTTP endpoint (<c>/metrics</c>, <c>/health/*</c>, the processor's
/// dashboard), mapped onto its configuration keys (<c>Processor:Http:Port</c>, <c>:Host</c>,
/// <c>:Enabled</c>), so appsettings.json and environment variables (<c>Processor__Http__Port</c>) set the same.
/// </summary>
/// <param name="onByDefault">The processor serves by default (<c>--no-http</c> turns it off); the producer only when given a port.</param>
internal sealed class HttpOptions(string section, bool onByDefault)
{
    public string Section => section;

    public Option<int?> Port { get; } = PortOption(onByDefault);

    public Option<string?> Host { get; } = new("--http-host")
    {
        Description = "Address the HTTP endpoint listens on: an IP address of this machine, localhost, or * for every interface (default 127.0.0.1; it has no authentication).",
    };

    public Option<bool> Disabled { get; } = new("--no-http") { Description = "Serve no HTTP endpoint." };

    public void AddTo(Command command, FlagMap flags)
    {
        command.Options.Add(Port);
        command.Options.Add(Host);
        // A flag that sets the endpoint also turns it on: flags win over a settings file or the environment
        // that turned it off (it was served by neither, without a word).
        flags.Add(Port, $"{section}:Http:Port").Add(Host, $"{section}:Http:Host").Add(Port, $"{section}:Http:Enabled", _ => "true");
        if (onByDefault)
        {
            flags.Add(Host, $"{section}:Http:Enabled", _ => "true");
        }

        if (onByDefault)
        {
            command.Options.Add(Disabled);
            flags.Add(Disabled, $"{section}:Http:Enabled", off => off ? "false" : null);
            command.Validators.Add(result =>
            {
                if (result.GetValue(Disabled) && (result.GetResult(Port) is { Implicit: false } || result.GetResult(Host) is { Implicit: false }))
                {
                    result.AddError("--no-http serves nothing, so --http-port and --http-host have nothing to set: choose one");
                }
            });
        }
    }

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
