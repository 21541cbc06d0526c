using System.CommandLine;
using System.CommandLine.Parsing;

namespace Orders.Cli.Settings;

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

    /// <summary>Like <see cref="Positive"/>, but unset unless given, so configuration supplies the default.</summary>
    public static Option<int?> OptionalPositive(string name, int max, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (TryGetValue<int?>(result, out var value) && value is { } v && (v < 1 || v > max))
            {
                result.AddError($"{name} must be between 1 and {max}, not {v}");
            }
        });
        return option;
    }

    /// <summary>Like <see cref="Ratio"/>, but unset unless given, so configuration supplies the default.</summary>
    public static Option<double?> OptionalRatio(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description, CustomParser = result => Number(result, name) };
        option.Validators.Add(result =>
        {
            if (TryGetValue<double?>(result, out var value) && value is { } v && (!double.IsFinite(v) || v < 0 || v > 1))
            {
                result.AddError($"{name} must be between 0 and 1, not {v}");
            }
        });
        return option;
    }

    /// <summary>
    /// A number as written in any locale's programs: digits, a point, an exponent. Not the parser's
    /// default, which takes thousands separators and so reads <c>0,5</c> as 5.
    /// </summary>
    private static double? Number(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"{name}: '{text}' is not a number (write a decimal with a point: 0.5)");
        return null;
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

    // A duration flag's bounds: a millisecond (what timers and HTTP timeouts resolve), and what every
    // timer the flags set can wait (an HTTP client's timeout, at most 2^31 - 1 ms, is the shortest).
    private const double MinSeconds = 0.001;
    private const double MaxSeconds = 2_000_000;

    /// <summary>A duration given in (possibly fractional) seconds, from a millisecond to 23 days.</summary>
    public static Option<TimeSpan?> Seconds(string name, string description)
    {
        var option = new Option<TimeSpan?>(name)
        {
            Description = description + " (seconds)",
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return null;
                }

                var text = result.Tokens.Single().Value;
                if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                    || !double.IsFinite(seconds) || seconds < MinSeconds || seconds > MaxSeconds)
                {
                    result.AddError($"{name} must be a number of seconds from {MinSeconds} to {MaxSeconds} (23 days), not '{text}'");
                    return null;
                }

                return TimeSpan.FromSeconds(seconds);
            },
        };
        return option;
    }

    public static Option<double?> PositiveDouble(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description, CustomParser = result => Number(result, name) };
        option.Validators.Add(result =>
        {
            if (TryGetValue<double?>(result, out var value) && value is { } v && (!double.IsFinite(v) || v <= 0))
            {
                result.AddError($"{name} must be a positive number, not {v}");
            }
        });
        return option;
    }

    /// <param name="shown">The default that applies when the flag is not given (its setting's, or the verb's): what help shows.</param>
    public static Option<double> Ratio(string name, string description, double shown = 0)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => shown, CustomParser = result => Number(result, name) ?? 0 };
        option.Validators.Add(result =>
        {
            if (TryGetValue<double>(result, out var value) && (!double.IsFinite(value) || value < 0 || value > 1))
            {
                result.AddError($"{name} must be between 0 and 1, not {value}");
            }
        });
        return option;
    }

    public static Option<long?> NonNegativeLong(string name, string description)
    {
        var option = new Option<long?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (TryGetValue<long?>(result, out var value) && value is < 0)
            {
                result.AddError($"{name} must not be negative, not {value}");
            }
        });
        return option;
    }

    public static Option<string> Topic()
    {
        var option = new Option<string>("--topic") { Description = "The orders topic (its dead-letter topic is <topic>_dlq, orders_dlq for orders).", DefaultValueFactory = _ => Orders.Contracts.Topics.Orders };
        option.Validators.Add(result =>
        {
            if (Orders.Contracts.Topics.Validate(result.GetValueOrDefault<string>()) is { } error)
            {
                result.AddError($"--topic: {error}");
            }
        });
        return option;
    }
}
