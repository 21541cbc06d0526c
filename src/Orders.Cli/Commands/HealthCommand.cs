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
            var wait = parseResult.GetValue(timeout) ?? TimeSpan.FromSeconds(3);
            using var http = new HttpClient { Timeout = wait };
            try
            {
                using var response = await http.GetAsync(target, cancellationToken);
                var line = $"{target}: {(int)response.StatusCode} {response.ReasonPhrase}";
                if (response.IsSuccessStatusCode)
                {
                    await stdout.WriteLineAsync(line);
                    return OrdersCli.ExitOk;
                }

                await stderr.WriteLineAsync($"orders: {line}");
                return OrdersCli.ExitFailure;
            }
            catch (HttpRequestException e)
            {
                await stderr.WriteLineAsync($"orders: {target}: {e.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"orders: {target}: no answer within {wait.TotalSeconds:0.#} s");
            }

            return OrdersCli.ExitFailure;
        });
        return command;
    }

    private static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
