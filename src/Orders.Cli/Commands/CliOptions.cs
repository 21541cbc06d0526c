using System.CommandLine;
using System.CommandLine.Parsing;

namespace Orders.Cli.Commands;

/// <summary>Option factories with range checks, so that bad values fail at parse time with a clear message.</summary>
internal static class CliOptions
{
    public static Option<int> Port(string name, int defaultValue, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (!TryGetValue<int>(result, out var value))
            {
                return;
            }

            if (value is < 1 or > 65535)
            {
                result.AddError($"{name} must be a TCP port between 1 and 65535, not {value}");
            }
        });
        return option;
    }

    public static Option<int> Positive(string name, int defaultValue, int max, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (!TryGetValue<int>(result, out var value))
            {
                return;
            }

            if (value < 1 || value > max)
            {
                result.AddError($"{name} must be between 1 and {max}, not {value}");
            }
        });
        return option;
    }

    // Validators run even when the text did not convert; the parser reports that error itself.
    private static bool TryGetValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
