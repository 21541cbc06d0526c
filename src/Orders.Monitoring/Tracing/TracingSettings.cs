using System.Globalization;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using Orders.Kafka;

namespace Orders.Monitoring.Tracing;

/// <summary>The <c>OpenTelemetry</c> settings section: the same settings as the standard <c>OTEL_*</c> variables, which win over it.</summary>
public sealed class OpenTelemetryOptions
{
    public const string Section = "OpenTelemetry";

    /// <summary>As <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: the collector's base address (<c>/v1/traces</c> is added for http/protobuf).</summary>
    public string? Endpoint { get; set; }

    /// <summary>As <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>: the traces address, used as given.</summary>
    public string? TracesEndpoint { get; set; }

    /// <summary>As <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>: <c>http/protobuf</c> (the default) or <c>grpc</c>.</summary>
    public string? Protocol { get; set; }

    /// <summary>As <c>OTEL_EXPORTER_OTLP_HEADERS</c>: <c>key=value,key2=value2</c>.</summary>
    public string? Headers { get; set; }

    /// <summary>As <c>OTEL_SERVICE_NAME</c>; by default each part names itself (orders-producer, orders-processor, orders-dlq).</summary>
    public string? ServiceName { get; set; }

    /// <summary>As <c>OTEL_TRACES_SAMPLER</c>: always_on, always_off, traceidratio, parentbased_always_on (the default), parentbased_always_off, parentbased_traceidratio.</summary>
    public string? Sampler { get; set; }

    /// <summary>As <c>OTEL_TRACES_SAMPLER_ARG</c>: the ratio of the ratio samplers, 0 to 1.</summary>
    public string? SamplerArg { get; set; }

    /// <summary>
    /// <c>true</c> (the default, as OpenTelemetry does): a record whose trace is not sampled still
    /// carries a <c>traceparent</c> with the sampled flag off, so that every service after it
    /// decides alike. <c>false</c>: such records carry no trace headers, and a processor decides
    /// their traces afresh (a share of them becomes processor-only traces). Measured, the Kafka
    /// client itself runs at about half its speed carrying one header per record (docs/BENCHMARKS.md,
    /// "Tracing cost"): at a low ratio, <c>false</c> leaves that cost to the sampled records only.
    /// </summary>
    public string? PropagateUnsampled { get; set; }
}

/// <summary>A tracing setting that cannot work: one line naming it.</summary>
public sealed class TracingSettingsException(string message) : Exception(message);

/// <summary>
/// Where and how traces go, from the standard <c>OTEL_*</c> environment variables (which win) and
/// the <c>OpenTelemetry</c> section. Tracing is on only when an OTLP endpoint is configured.
/// </summary>
public sealed record TracingSettings(Uri Endpoint, OtlpExportProtocol Protocol, string? Headers, string? ServiceName, string SamplerName, double? SamplerRatio)
{
    /// <summary>The sampler as configured, for logs and reports: its name, and its ratio if it has one.</summary>
    public string SamplerText => SamplerRatio is { } ratio ? string.Create(CultureInfo.InvariantCulture, $"{SamplerName} {ratio}") : SamplerName;

    /// <summary>The same sampler, for the decision made before any span (see <see cref="TraceSampling"/>).</summary>
    public HeadSampler CreateHeadSampler() => new(
        SamplerName.StartsWith("parentbased_", StringComparison.Ordinal),
        SamplerName switch
        {
            "always_on" or "parentbased_always_on" => 1,
            "always_off" or "parentbased_always_off" => 0,
            _ => SamplerRatio ?? 1,
        },
        PropagateUnsampled);

    /// <summary><see cref="OpenTelemetryOptions.PropagateUnsampled"/>: whether a record not sampled still carries its traceparent.</summary>
    public bool PropagateUnsampled { get; init; } = true;

    /// <summary>
    /// A new sampler as configured: one per tracer provider. An instance must not be shared: a
    /// provider shuts its sampler down when disposed, and a shut-down sampler drops every span
    /// (OpenTelemetry 1.21's IsShutdown check), another provider's included.
    /// </summary>
    public Sampler CreateSampler() => SamplerName switch
    {
        "always_on" => new AlwaysOnSampler(),
        "always_off" => new AlwaysOffSampler(),
        "traceidratio" => new TraceIdRatioBasedSampler(SamplerRatio ?? 1.0),
        "parentbased_always_on" => new ParentBasedSampler(new AlwaysOnSampler()),
        "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
        _ => new ParentBasedSampler(new TraceIdRatioBasedSampler(SamplerRatio ?? 1.0)),
    };

    /// <returns>The settings, or null when tracing is off (no endpoint, <c>OTEL_SDK_DISABLED=true</c>, <c>OTEL_TRACES_EXPORTER=none</c>).</returns>
    /// <exception cref="TracingSettingsException">A setting that cannot work.</exception>
    public static TracingSettings? Read(IConfiguration configuration, Func<string, string?> environment)
    {
        var section = configuration.GetSection(OpenTelemetryOptions.Section).Get<OpenTelemetryOptions>() ?? new OpenTelemetryOptions();
        string? Setting(string variable, string? fromSection) => NonEmpty(environment(variable)) ?? NonEmpty(fromSection);

        // What a message calls the setting: the variable where it is set, else the section's key.
        string Named(string variable, string key) => NonEmpty(environment(variable)) is not null ? variable : $"{OpenTelemetryOptions.Section}:{key}";

        if (string.Equals(NonEmpty(environment("OTEL_SDK_DISABLED")), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        switch (NonEmpty(environment("OTEL_TRACES_EXPORTER"))?.ToLowerInvariant())
        {
            case null or "otlp":
                break;
            case "none":
                return null;
            case var other:
                throw new TracingSettingsException($"OTEL_TRACES_EXPORTER '{other}' is not supported: otlp or none");
        }

        var protocol = ParseProtocol(Setting("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", null) ?? Setting("OTEL_EXPORTER_OTLP_PROTOCOL", section.Protocol));
        var tracesEndpoint = Setting("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", section.TracesEndpoint);
        var endpoint = TracesUri(
            tracesEndpoint,
            Setting("OTEL_EXPORTER_OTLP_ENDPOINT", section.Endpoint),
            protocol,
            tracesEndpoint is not null ? Named("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", nameof(section.TracesEndpoint)) : Named("OTEL_EXPORTER_OTLP_ENDPOINT", nameof(section.Endpoint)));
        // Checked whether or not an endpoint turns tracing on: a bad value is refused when it is set,
        // not later, when an endpoint is added and the process is restarted for it.
        var headers = Setting("OTEL_EXPORTER_OTLP_TRACES_HEADERS", null) ?? Setting("OTEL_EXPORTER_OTLP_HEADERS", section.Headers);
        CheckHeaders(headers);
        var samplerName = (Setting("OTEL_TRACES_SAMPLER", section.Sampler) ?? "parentbased_always_on").ToLowerInvariant();
        var samplerArg = Setting("OTEL_TRACES_SAMPLER_ARG", section.SamplerArg);
        var ratio = ParseSampler(samplerName, samplerArg, Named("OTEL_TRACES_SAMPLER", nameof(section.Sampler)), Named("OTEL_TRACES_SAMPLER_ARG", nameof(section.SamplerArg)));
        var propagate = NonEmpty(section.PropagateUnsampled)?.ToLowerInvariant() switch
        {
            null or "true" => true,
            "false" => false,
            var other => throw new TracingSettingsException($"OpenTelemetry:PropagateUnsampled must be true or false, not '{other}'"),
        };
        if (endpoint is null)
        {
            return null;
        }

        CheckSdkVariables(environment);
        return new TracingSettings(endpoint, protocol, headers, Setting("OTEL_SERVICE_NAME", section.ServiceName), samplerName, ratio) { PropagateUnsampled = propagate };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static OtlpExportProtocol ParseProtocol(string? value) => value?.ToLowerInvariant() switch
    {
        null or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
        "grpc" => OtlpExportProtocol.Grpc,
        var other => throw new TracingSettingsException($"OTLP protocol '{other}' is not supported: http/protobuf or grpc"),
    };

    /// <summary>The traces endpoint as given, or the base endpoint with <c>v1/traces</c> for http/protobuf (as the specification says).</summary>
    /// <param name="name">What the message calls the setting the endpoint came from.</param>
    private static Uri? TracesUri(string? traces, string? based, OtlpExportProtocol protocol, string name)
    {
        if ((traces ?? based) is not { } given)
        {
            return null;
        }

        if (!Uri.TryCreate(given, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new TracingSettingsException($"{name}: OTLP endpoint '{given}' is not an absolute http(s) URL");
        }

        if (traces is not null || protocol == OtlpExportProtocol.Grpc)
        {
            return uri;
        }

        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        return new UriBuilder(uri) { Path = path + "v1/traces" }.Uri;
    }

    /// <summary>
    /// The variables the OpenTelemetry SDK reads on its own once tracing is on. It ignores a value it
    /// cannot use (it only writes to its own event source), so a timeout or queue size set wrongly
    /// would silently be the default; refused here instead, as every other setting is.
    /// </summary>
    private static void CheckSdkVariables(Func<string, string?> environment)
    {
        foreach (var variable in (string[])["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"])
        {
            WholeNumber(variable, "a whole number of milliseconds, 1 or more", least: 1);
        }

        WholeNumber("OTEL_BSP_MAX_QUEUE_SIZE", "a whole number of spans, 1 or more", least: 1);
        WholeNumber("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "a whole number of spans, 1 or more", least: 1);
        foreach (var variable in (string[])
        [
            "OTEL_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        ])
        {
            WholeNumber(variable, "a whole number, 0 or more", least: 0);
        }

        if (NotAPair(NonEmpty(environment("OTEL_RESOURCE_ATTRIBUTES"))) is { } notAPair)
        {
            throw new TracingSettingsException($"OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas, not '{notAPair}'");
        }

        foreach (var variable in (string[])["OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY"])
        {
            if (NonEmpty(environment(variable)) is { } path && !File.Exists(path))
            {
                throw new TracingSettingsException($"{variable} names '{path}', which is not a file");
            }
        }

        void WholeNumber(string variable, string what, int least)
        {
            // Digits only, as the SDK reads them: no sign, no decimals, no units.
            if (NonEmpty(environment(variable)) is { } value &&
                (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < least))
            {
                throw new TracingSettingsException($"{variable} '{value}' is not {what}");
            }
        }
    }

    private static void CheckHeaders(string? headers)
    {
        if (NotAPair(headers) is not null)
        {
            throw new TracingSettingsException("OTLP headers must be key=value pairs separated by commas");
        }
    }

    /// <returns>The first entry of a comma-separated <c>key=value</c> list that has no key and '=', or null when there is none.</returns>
    private static string? NotAPair(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(pair => pair.IndexOf('=', StringComparison.Ordinal) <= 0);

    /// <returns>The ratio of a ratio sampler (1 when not given), null for the others.</returns>
    /// <param name="nameSetting">What the message calls the setting the sampler's name came from; <paramref name="argSetting"/>, its argument's.</param>
    private static double? ParseSampler(string name, string? arg, string nameSetting, string argSetting)
    {
        switch (name)
        {
            case "always_on" or "always_off" or "parentbased_always_on" or "parentbased_always_off":
                return null;
            case "traceidratio" or "parentbased_traceidratio":
                if (arg is null)
                {
                    return 1.0;
                }

                return double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
                    ? ratio
                    : throw new TracingSettingsException($"{argSetting} '{arg}' is not a ratio from 0 to 1");
            default:
                throw new TracingSettingsException(
                    $"{nameSetting} '{name}' is not supported: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio");
        }
    }
}
