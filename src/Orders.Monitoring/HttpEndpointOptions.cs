using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Options;

namespace Orders.Monitoring;

/// <summary>
/// Where a component serves <c>/metrics</c>, <c>/health/*</c> and its dashboard, bound from
/// <c>Processor:Http</c> (or <c>Producer:Http</c>):
/// <code>"Processor": { "Http": { "Enabled": true, "Host": "127.0.0.1", "Port": 8080 } }</code>
/// </summary>
public sealed class HttpEndpointOptions
{
    public const int DefaultPort = 8080;
    public const string DefaultHost = "127.0.0.1";

    /// <summary>False serves nothing (<c>--no-http</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>An IP address, <c>localhost</c>, or <c>*</c> for every interface. Loopback by default: the endpoints have no authentication.</summary>
    public string Host { get; set; } = DefaultHost;

    /// <summary>TCP port; 0 lets the system pick a free one (the address is logged).</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>How often the dashboard receives a new state.</summary>
    public TimeSpan DashboardInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The address to listen on, or null for <c>localhost</c> (both loopback families) or <c>*</c> (every interface).</summary>
    internal bool TryParseHost(out IPAddress? address)
    {
        address = null;
        return Host is "localhost" or "*" || IPAddress.TryParse(Host, out address);
    }
}

/// <summary>Checks the endpoint's options at start: one clear line for a bad host or port, whatever set it.</summary>
public sealed class HttpEndpointOptionsValidator(string section) : IValidateOptions<HttpEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpEndpointOptions options)
    {
        var errors = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"{section}:Port must be a TCP port between 0 and 65535 (0 picks a free one), not {options.Port}");
        }

        if (!options.TryParseHost(out var address))
        {
            errors.Add($"{section}:Host must be an IP address, localhost or *, not '{options.Host}'");
        }
        else if (address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } && address.ToString() != options.Host)
        {
            // The parser takes the old short forms: "0" is 0.0.0.0 (every interface), "127.1" is 127.0.0.1.
            errors.Add($"{section}:Host {options.Host} is {address} written short: write it as {address}");
        }
        else if (address is { IsIPv4MappedToIPv6: true })
        {
            errors.Add($"{section}:Host {options.Host} is an IPv4 address written as IPv6: write it as {address.MapToIPv4()}");
        }
        else if (address is not null && !IsLocal(address))
        {
            errors.Add($"{section}:Host {options.Host} is not an address of this machine: listen on one of its own, localhost, or * for every interface");
        }

        if (options.DashboardInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"{section}:DashboardInterval must be at least 100 ms");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // Kestrel fails on an address no interface has (EADDRNOTAVAIL): said here, in one line, before anything starts.
    private static bool IsLocal(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(address)
        || NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.Equals(address));
}
