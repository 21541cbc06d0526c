using System.Diagnostics;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>
/// Clients no one here wrote (kcat, Python's confluent-kafka and kafka-python, KafkaJS, Chromium). A test that needs one skips with a
/// visible reason where it is missing, unless ORDERS_REQUIRE_INTEROP=1 (CI) makes that a failure.
/// </summary>
internal static class ExternalTool
{
    public static string RequireKcat() => Require("kcat", Find("kcat"), "apt-get install kcat");

    public static string RequirePythonWithConfluentKafka()
    {
        foreach (var python in new[] { "/usr/bin/python3", Find("python3") })
        {
            if (python is not null && File.Exists(python)
                && Run(python, ["-c", "import confluent_kafka.avro, avro, requests"], TimeSpan.FromSeconds(30)).ExitCode == 0)
            {
                return python;
            }
        }

        return Require("python3 with confluent_kafka, avro and requests", null, "apt-get install python3-confluent-kafka python3-avro python3-requests");
    }

    /// <summary>Python with Debian's kafka-python (a pure-Python client, not built on librdkafka).</summary>
    public static string RequirePythonWithKafkaPython()
    {
        foreach (var python in new[] { "/usr/bin/python3", Find("python3") })
        {
            if (python is not null && File.Exists(python) && Run(python, ["-c", "import kafka.admin"], TimeSpan.FromSeconds(30)).ExitCode == 0)
            {
                return python;
            }
        }

        return Require("python3 with kafka-python", null, "apt-get install python3-kafka");
    }

    /// <summary>Node with KafkaJS installed from the committed lock file; returns the node executable.</summary>
    public static string RequireNodeWithKafkaJs()
    {
        var node = Find("node");
        var installed = File.Exists(Path.Combine(KafkaJsDirectory, "node_modules", "kafkajs", "package.json"));
        return Require("node with kafkajs", node is not null && installed ? node : null, $"install node and npm, then npm ci --prefix {KafkaJsDirectory}");
    }

    /// <summary>Where package.json and the lock file of the KafkaJS tests live (in the source tree: node_modules is not copied).</summary>
    public static string KafkaJsDirectory { get; } =
        typeof(ExternalTool).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .Single(a => a.Key == "KafkaJsDirectory").Value!;

    /// <summary>Debian's Chromium, for Playwright to drive (Playwright's own browser download is never used).</summary>
    public static string RequireChromium()
    {
        const string chromium = "/usr/bin/chromium";
        return Require("chromium", File.Exists(chromium) ? chromium : null, "apt-get install chromium");
    }

    private static string Require(string what, string? path, string install)
    {
        if (path is not null)
        {
            return path;
        }

        var reason = $"{what} is not installed ({install}); this interoperability test needs it";
        if (Environment.GetEnvironmentVariable("ORDERS_REQUIRE_INTEROP") == "1")
        {
            Assert.Fail(reason);
        }

        Assert.Skip(reason);
        return null!;
    }

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public static ProcessResult Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? stdin = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ProcessResult(-1, stdout.Result, stderr.Result + $"\n(killed after {timeout})");
        }

        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}
