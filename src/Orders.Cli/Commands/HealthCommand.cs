using System.CommandLine;
using Orders.Cli.Settings;

namespace Orders.Cli.Commands;

/// <summary>
/// <c>orders health</c>: asks a running processor's or producer's health endpoint once, for a
/// container's healthcheck: the ASP.NET Core runtime image has neither curl nor wget, but it has
/// <c>orders</c>. Exit 0 on a 2xx answer, 1 on any other answer or none, one line either way.
/// </summary>
internal static class HealthCommand
{
    public const string DefaultUrl = "http://127.0.0.1:8080/health/live";

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var url = new Option<string>("--url") { Description = "The health endpoint to ask (a producer serves one on its --http-port).", DefaultValueFactory = _ => DefaultUrl };
        url.Validators.Add(result =>
        {
            if (!IsHttpUrl(result.GetValueOrDefault<string>()))
            {
                result.AddError($"--url: '{result.GetValueOrDefault<string>()}' is not an absolute http(s) URL");
            }
        });
        var timeout = CliOptions.Seconds("--timeout", "How long to wait for the answer (default 3)");
        var command = new Command("health", "Ask a running processor's or producer's health endpoint once: exit 0 when healthy (for container healthchecks).") { url, timeout };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var target = new Uri(parseResult.GetValue(url)!);
            // What is printed: credentials in the URL stay out of logs.
            var shown = target.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
            var wait = parseResult.GetValue(timeout) ?? TimeSpan.FromSeconds(3);
            // Straight to the endpoint: a container inherits HTTP_PROXY from its environment, and a proxy
            // that cannot reach the container's own loopback would make a healthy process look dead.
            using var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false };
            using var http = new HttpClient(handler) { Timeout = wait };
            try
            {
                using var response = await http.GetAsync(target, cancellationToken);
                var line = $"{shown}: {(int)response.StatusCode} {response.ReasonPhrase}";
                if (response.IsSuccessStatusCode)
                {
                    await stdout.WriteLineAsync(line);
                    return OrdersCli.ExitOk;
                }

                var why = Failing(await response.Content.ReadAsStringAsync(cancellationToken));
                await stderr.WriteLineAsync($"orders: {line}{(why is null ? "" : ": " + why)}");
                return OrdersCli.ExitFailure;
            }
            catch (HttpRequestException e)
            {
                // The innermost reason ("Connection refused"), not "An error occurred while sending the request".
                await stderr.WriteLineAsync($"orders: {shown}: {e.GetBaseException().Message.ReplaceLineEndings(" ")}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"orders: {shown}: no answer within {wait.TotalSeconds:0.###} s");
            }

            return OrdersCli.ExitFailure;
        });
        return command;
    }

    /// <summary>From a health answer's JSON, its status and each check that is not healthy: "Degraded (kafka: no Kafka broker connected for 12 s)".</summary>
    /// <returns>Null when the body is not such an answer.</returns>
    internal static string? Failing(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object || !root.TryGetProperty("status", out var status)
                || status.ValueKind != System.Text.Json.JsonValueKind.String || status.GetString() is not { } overall)
            {
                return null;
            }

            var failing = root.TryGetProperty("checks", out var checks) && checks.ValueKind == System.Text.Json.JsonValueKind.Object
                ? checks.EnumerateObject()
                    .Where(c => c.Value.ValueKind == System.Text.Json.JsonValueKind.Object && c.Value.TryGetProperty("status", out var s) && !(s.ValueKind == System.Text.Json.JsonValueKind.String && s.GetString() == "Healthy"))
                    .Select(c => $"{c.Name}: {(c.Value.TryGetProperty("description", out var d) ? d.ToString() : "?")}")
                    .ToList()
                : [];
            var text = failing.Count == 0 ? overall : $"{overall} ({string.Join("; ", failing)})";
            return Output.TerminalText.Printable(text.ReplaceLineEndings(" "));
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
