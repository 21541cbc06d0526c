using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orders.Monitoring;

internal static class Json
{
    /// <summary>camelCase, nulls left out; HTML-sensitive characters stay escaped (the dashboard shows untrusted product names and errors).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.Default,
    };
}
