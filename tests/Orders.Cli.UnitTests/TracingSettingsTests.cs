using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using Orders.Monitoring.Tracing;

namespace Orders.Cli.UnitTests;

/// <summary>Where traces go: the standard OTEL_* variables over the OpenTelemetry section, checked before anything starts.</summary>
public sealed class TracingSettingsTests
{
    [Fact]
    public void NoEndpointAnywhere_TracingIsOff()
    {
        Assert.Null(Read(new(), new()));
    }

    [Fact]
    public void BaseEndpoint_HttpProtobuf_GetsTheTracesPath()
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318" }, new())!;

        Assert.Equal(new Uri("http://collector:4318/v1/traces"), settings.Endpoint);
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, settings.Protocol);
        Assert.Equal("parentbased_always_on", settings.SamplerText);
        Assert.IsType<ParentBasedSampler>(settings.CreateSampler());
        Assert.Null(settings.ServiceName);
    }

    [Fact]
    public void BaseEndpointWithAPath_KeepsIt()
    {
        Assert.Equal(new Uri("https://otel.example/ingest/v1/traces"), Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "https://otel.example/ingest/" }, new())!.Endpoint);
    }

    [Fact]
    public void TracesEndpoint_IsUsedAsGiven_AndWinsOverTheBase()
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://a:4318", ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://b:9999/custom" }, new())!;

        Assert.Equal(new Uri("http://b:9999/custom"), settings.Endpoint);
    }

    [Fact]
    public void Grpc_TheEndpointAsGiven()
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc" }, new())!;

        Assert.Equal(OtlpExportProtocol.Grpc, settings.Protocol);
        Assert.Equal(new Uri("http://collector:4317"), settings.Endpoint);
    }

    [Fact]
    public void Section_ConfiguresEverything_AndTheEnvironmentWins()
    {
        var section = new Dictionary<string, string?>
        {
            ["OpenTelemetry:Endpoint"] = "http://from-file:4318",
            ["OpenTelemetry:Headers"] = "api-key=secret",
            ["OpenTelemetry:ServiceName"] = "file-name",
            ["OpenTelemetry:Sampler"] = "traceidratio",
            ["OpenTelemetry:SamplerArg"] = "0.25",
        };

        var fromFile = Read(new(), section)!;
        Assert.Equal(new Uri("http://from-file:4318/v1/traces"), fromFile.Endpoint);
        Assert.Equal("api-key=secret", fromFile.Headers);
        Assert.Equal("file-name", fromFile.ServiceName);
        Assert.Equal("traceidratio 0.25", fromFile.SamplerText);
        Assert.IsType<TraceIdRatioBasedSampler>(fromFile.CreateSampler());
        Assert.NotSame(fromFile.CreateSampler(), fromFile.CreateSampler());

        var overridden = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://env:4318", ["OTEL_SERVICE_NAME"] = "env-name", ["OTEL_TRACES_SAMPLER_ARG"] = "0.01" }, section)!;
        Assert.Equal(new Uri("http://env:4318/v1/traces"), overridden.Endpoint);
        Assert.Equal("env-name", overridden.ServiceName);
        Assert.Equal("traceidratio 0.01", overridden.SamplerText);
    }

    [Theory]
    [InlineData("OTEL_SDK_DISABLED", "true")]
    [InlineData("OTEL_TRACES_EXPORTER", "none")]
    public void Disabled_EvenWithAnEndpoint(string variable, string value)
    {
        Assert.Null(Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318", [variable] = value }, new()));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT: OTLP endpoint 'collector:4318' is not an absolute http(s) URL")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTLP protocol 'http/json' is not supported: http/protobuf or grpc")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "novalue", "OTLP headers must be key=value pairs separated by commas")]
    [InlineData("OTEL_TRACES_SAMPLER", "sometimes", "OTEL_TRACES_SAMPLER 'sometimes' is not supported: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "1.5", "OTEL_TRACES_SAMPLER_ARG '1.5' is not a ratio from 0 to 1")]
    [InlineData("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER 'zipkin' is not supported: otlp or none")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "abc", "OTEL_EXPORTER_OTLP_TIMEOUT 'abc' is not a whole number of milliseconds, 1 or more")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT '10s' is not a whole number of milliseconds, 1 or more")]
    [InlineData("OTEL_BSP_SCHEDULE_DELAY", "0", "OTEL_BSP_SCHEDULE_DELAY '0' is not a whole number of milliseconds, 1 or more")]
    [InlineData("OTEL_BSP_EXPORT_TIMEOUT", "1.5", "OTEL_BSP_EXPORT_TIMEOUT '1.5' is not a whole number of milliseconds, 1 or more")]
    [InlineData("OTEL_BSP_MAX_QUEUE_SIZE", "-1", "OTEL_BSP_MAX_QUEUE_SIZE '-1' is not a whole number of spans, 1 or more")]
    [InlineData("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "99999999999", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE '99999999999' is not a whole number of spans, 1 or more")]
    [InlineData("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT 'many' is not a whole number, 0 or more")]
    [InlineData("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-5", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT '-5' is not a whole number, 0 or more")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team", "OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas, not 'team'")]
    [InlineData("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem", "OTEL_EXPORTER_OTLP_CERTIFICATE names '/nonexistent/ca.pem', which is not a file")]
    public void UnworkableSetting_OneLineNamingIt(string variable, string value, string message)
    {
        var environment = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318", ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio", [variable] = value };

        var error = Assert.Throws<TracingSettingsException>(() => Read(environment, new()));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("OpenTelemetry:Sampler", "sometimes", "OpenTelemetry:Sampler 'sometimes' is not supported: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio")]
    [InlineData("OpenTelemetry:SamplerArg", "2", "OpenTelemetry:SamplerArg '2' is not a ratio from 0 to 1")]
    [InlineData("OpenTelemetry:Endpoint", "notaurl", "OpenTelemetry:Endpoint: OTLP endpoint 'notaurl' is not an absolute http(s) URL")]
    [InlineData("OpenTelemetry:TracesEndpoint", "notaurl", "OpenTelemetry:TracesEndpoint: OTLP endpoint 'notaurl' is not an absolute http(s) URL")]
    public void UnworkableSettingInTheSection_OneLineNamingTheKeyItWasGivenAs(string key, string value, string message)
    {
        var configuration = new Dictionary<string, string?> { ["OpenTelemetry:Endpoint"] = "http://collector:4318", ["OpenTelemetry:Sampler"] = "traceidratio", [key] = value };

        var error = Assert.Throws<TracingSettingsException>(() => Read(new(), configuration));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ExportersStartedAgain_AfterEarlierOnesStopped_StillSample()
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1" }, new())!;
        using var source = new System.Diagnostics.ActivitySource(Orders.Producer.ProducerTracing.SourceName);

        for (var round = 0; round < 2; round++)
        {
            using var tracing = OrdersTracing.Start(settings, failures: null, TracedComponent.Producer, TracedComponent.Processor);
            using var span = source.StartActivity("probe");

            Assert.True(span?.Recorded, $"round {round}: the span was not sampled");
        }
    }

    [Theory]
    [InlineData("traceidratio", "0.3")]
    [InlineData("parentbased_traceidratio", "0.01")]
    [InlineData("parentbased_traceidratio", "0.5")]
    [InlineData("always_on", null)]
    [InlineData("parentbased_always_off", null)]
    public void HeadSampler_DecidesAsOpenTelemetrysOwnSampler(string name, string? arg)
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4318", ["OTEL_TRACES_SAMPLER"] = name, ["OTEL_TRACES_SAMPLER_ARG"] = arg }, new())!;
        var theirs = settings.CreateSampler();
        var ours = settings.CreateHeadSampler();
        var random = new Random(18);
        var bytes = new byte[16];
        for (var i = 0; i < 5000; i++)
        {
            random.NextBytes(bytes);
            var traceId = System.Diagnostics.ActivityTraceId.CreateFromBytes(bytes);
            bool Theirs(System.Diagnostics.ActivityContext parent) =>
                theirs.ShouldSample(new SamplingParameters(parent, traceId, "x", System.Diagnostics.ActivityKind.Producer)).Decision == SamplingDecision.RecordAndSample;
            Assert.Equal(Theirs(default), ours.Root(bytes));
            foreach (var flags in new[] { System.Diagnostics.ActivityTraceFlags.Recorded, System.Diagnostics.ActivityTraceFlags.None })
            {
                var parent = new System.Diagnostics.ActivityContext(traceId, System.Diagnostics.ActivitySpanId.CreateRandom(), flags, isRemote: true);
                Assert.Equal(Theirs(parent), ours.Child(flags, bytes));
            }
        }
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("true", true)]
    [InlineData("FALSE", false)]
    public void PropagateUnsampled_OnUnlessSetFalse_AndTheHeadSamplerCarriesIt(string? value, bool expected)
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4318" }, new() { ["OpenTelemetry:PropagateUnsampled"] = value })!;

        Assert.Equal(expected, settings.PropagateUnsampled);
        Assert.Equal(expected, settings.CreateHeadSampler().PropagateUnsampled);
    }

    [Fact]
    public void SdkVariables_UsableValues_AreAccepted()
    {
        var environment = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318",
            ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "5000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BSP_MAX_QUEUE_SIZE"] = "4096",
            ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "512",
            ["OTEL_SPAN_EVENT_COUNT_LIMIT"] = "0",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=prod, team=orders",
            ["OTEL_BSP_EXPORT_TIMEOUT"] = " ",
        };

        Assert.NotNull(Read(environment, new()));
    }

    [Theory]
    [InlineData("OpenTelemetry:Sampler", "always_of", "OpenTelemetry:Sampler 'always_of' is not supported: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio")]
    [InlineData("OpenTelemetry:SamplerArg", "1.5", "OpenTelemetry:SamplerArg '1.5' is not a ratio from 0 to 1")]
    [InlineData("OpenTelemetry:Headers", "novalue", "OTLP headers must be key=value pairs separated by commas")]
    [InlineData("OpenTelemetry:PropagateUnsampled", "yes", "OpenTelemetry:PropagateUnsampled must be true or false, not 'yes'")]
    public void UnworkableSettingInTheSection_RefusedWhileNoEndpointTurnsTracingOn(string key, string value, string message)
    {
        var configuration = new Dictionary<string, string?> { ["OpenTelemetry:Sampler"] = "traceidratio", [key] = value };

        var error = Assert.Throws<TracingSettingsException>(() => Read(new(), configuration));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void SdkVariables_BadButTracingOff_AreNotRead()
    {
        Assert.Null(Read(new() { ["OTEL_BSP_MAX_QUEUE_SIZE"] = "-1" }, new()));
    }

    [Fact]
    public void PropagateUnsampled_NotABoolean_OneLineNamingIt()
    {
        var error = Assert.Throws<TracingSettingsException>(() =>
            Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4318" }, new() { ["OpenTelemetry:PropagateUnsampled"] = "sometimes" }));

        Assert.Equal("OpenTelemetry:PropagateUnsampled must be true or false, not 'sometimes'", error.Message);
    }

    private static TracingSettings? Read(Dictionary<string, string?> environment, Dictionary<string, string?> configuration) =>
        TracingSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build(), name => environment.GetValueOrDefault(name));
}
