using System.CommandLine;
using System.Globalization;

namespace Orders.Cli.Settings;

/// <summary>
/// A verb's flags as data: which option sets which configuration key, and how its value is
/// written there. Only flags given on the command line are mapped (a flag's default never hides
/// what appsettings.json or the environment set), so one options type, bound from configuration,
/// is the single truth however a setting was given.
/// </summary>
internal sealed class FlagMap
{
    private readonly List<Func<ParseResult, (string Key, string? Value)?>> _flags = [];

    /// <param name="format">How the value is written; by default invariant text (durations as <c>d.hh:mm:ss.fff</c>).</param>
    public FlagMap Add<T>(Option<T> option, string key, Func<T, string?>? format = null)
    {
        _flags.Add(result => result.GetResult(option) is { Implicit: false }
            ? (key, format is null ? Text(result.GetValue(option)) : format(result.GetValue(option)!))
            : null);
        return this;
    }

    /// <summary>Adds a key whatever the command line says (a verb's own choice, such as the demo's defaults).</summary>
    public FlagMap Set(string key, Func<ParseResult, string?> value)
    {
        _flags.Add(result => (key, value(result)));
        return this;
    }

    public Dictionary<string, string?> From(ParseResult result)
    {
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var map in _flags)
        {
            if (map(result) is { } flag)
            {
                flags[flag.Key] = flag.Value;
            }
        }

        return flags;
    }

    public static string? Text(object? value) => value switch
    {
        null => null,
        TimeSpan duration => duration.ToString("c", CultureInfo.InvariantCulture),
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
