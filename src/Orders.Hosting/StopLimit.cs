namespace Orders.Hosting;

/// <summary>
/// How long a verb may take to stop after SIGINT or SIGTERM: the CLI ends the process then, and the
/// host gives its services as long. Kubernetes' default grace period is as long, so a stop that
/// fits here ends before an orchestrator's SIGKILL. Every bounded step of a stop must fit within it.
/// </summary>
public static class StopLimit
{
    public static readonly TimeSpan AfterSignal = TimeSpan.FromSeconds(30);
}
