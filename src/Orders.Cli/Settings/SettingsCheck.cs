using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Monitoring;
using Orders.Monitoring.Tracing;
using Orders.Processor.Hosting;
using Orders.Producer;
using Orders.RegistryClient;

namespace Orders.Cli.Settings;

/// <summary>
/// Sections and keys the verbs know. A settings file or an environment variable that names one
/// almost right (<c>Processr</c>, <c>Processor__MaxAtempts</c>) would otherwise be ignored without a
/// word: it is refused, with "did you mean". The <c>Kafka</c> and <c>SchemaRegistry</c> sections
/// are checked against librdkafka's and Confluent's own properties elsewhere; <c>Logging</c> is the
/// host's own and free-form.
/// </summary>
internal static class SettingsCheck
{
    private static readonly Dictionary<string, Keys?> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [KafkaSettings.Section] = null,
        [SchemaRegistrySettings.Section] = null,
        ["Logging"] = null,
        [OpenTelemetryOptions.Section] = Keys.Of<OpenTelemetryOptions>(),
        [ProcessorOptions.Section] = Keys.Of<ProcessorOptions>(("Http", Keys.Of<HttpEndpointOptions>()), ("Handler", Keys.Of<HandlerOptions>())),
        ["Producer"] = Keys.Of<ProducerOptions>(("Http", Keys.Of<HttpEndpointOptions>())),
    };

    /// <exception cref="SettingsException">A settings file that is not JSON (named with the line and position of the fault), or not one object.</exception>
    public static void Json(IEnumerable<SettingsFile> files)
    {
        foreach (var file in files)
        {
            using var document = Parse(file);
            // The configuration library refuses a key given twice (its keys ignore case) in words that name no file.
            var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (Duplicate(document.RootElement, "", keys) is { } duplicate)
            {
                throw new SettingsException($"bad settings file {file.Path}: '{duplicate}' is given twice (keys are compared ignoring case)");
            }
        }
    }

    /// <returns>The first configuration key (sections joined by ':') that <paramref name="element"/> gives twice, or null.</returns>
    private static string? Duplicate(JsonElement element, string prefix, HashSet<string> keys)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var key = prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}";
                    if (property.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array) && !keys.Add(key))
                    {
                        return key;
                    }

                    if (Duplicate(property.Value, key, keys) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var key = $"{prefix}:{index++}";
                    if (item.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array) && !keys.Add(key))
                    {
                        return key;
                    }

                    if (Duplicate(item, key, keys) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <exception cref="SettingsException">An unknown section or key in a settings file or an environment variable.</exception>
    public static void Sections(IConfiguration configuration, IEnumerable<SettingsFile> files)
    {
        foreach (var file in files)
        {
            using (var document = Parse(file))
            {
                foreach (var section in document.RootElement.EnumerateObject())
                {
                    Check(file.Path, [section.Name], section.Value);
                }
            }
        }

        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            // "__" or ':' between keys: .NET reads both (env 'Processor:MaxAttempts=5' is a setting too).
            if (variable.Key is string name && (name.Contains("__", StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)))
            {
                CheckVariable(name);
            }
        }

        LogLevels(configuration);
        Values(configuration);
    }

    private static JsonDocument Parse(SettingsFile file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file.Bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SettingsException($"bad settings file {file.Path}: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new SettingsException($"bad settings file {file.Path}: it must hold one JSON object of sections");
        }

        return document;
    }

    /// <summary>
    /// Durations and choices given as bare numbers, whichever source gave them. The binder reads a
    /// duration of <c>3</c> as 3 days (.NET's TimeSpan), where the docs speak of seconds: a processor
    /// told <c>Processor__UntilIdle=3</c> never went idle, and <c>Processor__BrokerTimeout=10</c>
    /// waited 864,000 s. And it reads a choice's number as the choice of that rank
    /// (<c>Processor__Ordering=1</c> was <c>partition</c>), where the flag takes only names.
    /// </summary>
    private static void Values(IConfiguration configuration)
    {
        foreach (var (section, sectionKeys) in Known)
        {
            if (sectionKeys is null)
            {
                continue;
            }

            foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
            {
                var path = key.Split(ConfigurationPath.KeyDelimiter);
                if (value is null || path.Length < 2 || KeysAt(path[..^1]) is not { } keys || !keys.Types.TryGetValue(path[^1], out var type))
                {
                    continue;
                }

                var number = double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
                if (type == typeof(TimeSpan) && number)
                {
                    throw new SettingsException(
                        $"{key}: '{value}' is a bare number, which .NET reads as days: write a duration as hh:mm:ss (00:00:05 is 5 seconds) or d.hh:mm:ss");
                }

                if (type.IsEnum && number)
                {
                    throw new SettingsException($"{key}: '{value}' is not one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}");
                }
            }
        }
    }

    /// <summary>
    /// The levels of <c>Logging:LogLevel</c> and <c>Logging:&lt;provider&gt;:LogLevel</c>, by the logging
    /// library's own rule: otherwise its "Configuration value 'Loud' is not supported" names no setting.
    /// </summary>
    private static void LogLevels(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection("Logging").AsEnumerable())
        {
            if (value is not null && ConfigurationPath.GetParentPath(key) is { } parent
                && ConfigurationPath.GetSectionKey(parent).Equals("LogLevel", StringComparison.OrdinalIgnoreCase)
                && !Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value, ignoreCase: true, out _))
            {
                throw new SettingsException($"{key}: '{value}' is not a log level (Trace, Debug, Information, Warning, Error, Critical or None)");
            }
        }
    }

    private static void Check(string file, string[] path, JsonElement value)
    {
        if (Problem(path) is { } problem)
        {
            throw new SettingsException($"{file}: {problem}");
        }

        // A shape the binder cannot use it skips without a word, leaving the default in place.
        if (KeysAt(path) is not null && value.ValueKind != JsonValueKind.Object)
        {
            throw new SettingsException($"{file}: {string.Join(':', path)} must be an object of settings, not {Kind(value)}");
        }

        if (path.Length > 1 && KeysAt(path[..^1]) is { } parent && parent.Names.Contains(path[^1]) && value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            throw new SettingsException($"{file}: {string.Join(':', path)} must be one value, not {Kind(value)}");
        }

        if (value.ValueKind == JsonValueKind.Object && KeysAt(path) is not null)
        {
            foreach (var child in value.EnumerateObject())
            {
                Check(file, [.. path, child.Name], child.Value);
            }
        }
    }

    private static void CheckVariable(string name)
    {
        var path = name.Replace("__", ":", StringComparison.Ordinal).Split(':');
        // Only variables that are, or look like, one of our sections: the environment holds many others.
        if (!Known.ContainsKey(path[0]) && Suggestions.Closest(path[0], Known.Keys) is null)
        {
            return;
        }

        if (Problem(path) is { } problem)
        {
            throw new SettingsException($"environment variable {name}: {problem}");
        }
    }

    /// <returns>What is wrong with this path of keys, or null.</returns>
    private static string? Problem(string[] path)
    {
        if (!Known.TryGetValue(path[0], out var keys))
        {
            return $"unknown section '{path[0]}'{Suggestions.DidYouMean(path[0], Known.Keys)}";
        }

        for (var i = 1; i < path.Length && keys is not null; i++)
        {
            var key = path[i];
            if (keys.Subsections.TryGetValue(key, out var sub))
            {
                keys = sub;
                continue;
            }

            if (!keys.Names.Contains(key))
            {
                var where = string.Join(':', path[..i]);
                return $"unknown setting '{string.Join(':', path[..(i + 1)])}'{Suggestions.DidYouMean(key, keys.Names.Concat(keys.Subsections.Keys))} ({where} has {Listed(keys)})";
            }

            return null;
        }

        return null;
    }

    /// <summary>A section's settings, then its subsections (a subsection is a key too: <c>Processor:Http</c>).</summary>
    private static string Listed(Keys keys)
    {
        var names = string.Join(", ", keys.Names.Order(StringComparer.Ordinal));
        return keys.Subsections.Count == 0 ? names : $"{names}; and the sections {string.Join(", ", keys.Subsections.Keys.Order(StringComparer.Ordinal))}";
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null",
        _ => "true or false",
    };

    /// <returns>The keys a section or subsection takes; null where it is free-form, a single setting, or unknown.</returns>
    private static Keys? KeysAt(string[] path)
    {
        var keys = Known.GetValueOrDefault(path[0]);
        for (var i = 1; i < path.Length && keys is not null; i++)
        {
            keys = keys.Subsections.GetValueOrDefault(path[i]);
        }

        return keys;
    }

    /// <summary>The settings a section takes: an options type's writable properties (with their types, nullables unwrapped), and its subsections (null: free-form).</summary>
    private sealed record Keys(HashSet<string> Names, Dictionary<string, Keys?> Subsections, Dictionary<string, Type> Types)
    {
        public static Keys Of<T>(params (string Name, Keys? Keys)[] subsections) => Of(typeof(T), subsections);

        /// <summary>Properties of one value are settings; one of an options class is a subsection of its own; a collection is free-form.</summary>
        private static Keys Of(Type type, (string Name, Keys? Keys)[] subsections)
        {
            var given = subsections.ToDictionary(s => s.Name, s => s.Keys, StringComparer.OrdinalIgnoreCase);
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && !given.ContainsKey(p.Name)).ToList();
            foreach (var property in properties.Where(p => !IsValue(p.PropertyType)))
            {
                given[property.Name] = typeof(IEnumerable).IsAssignableFrom(property.PropertyType) ? null : Of(property.PropertyType, []);
            }

            var values = properties.Where(p => IsValue(p.PropertyType)).ToList();
            return new Keys(
                new HashSet<string>(values.Select(p => p.Name), StringComparer.OrdinalIgnoreCase),
                given,
                values.ToDictionary(p => p.Name, p => Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType, StringComparer.OrdinalIgnoreCase));
        }

        private static bool IsValue(Type type)
        {
            var t = Nullable.GetUnderlyingType(type) ?? type;
            return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(DateTimeOffset) || t == typeof(Uri);
        }
    }
}
