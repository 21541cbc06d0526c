namespace Orders.Hosting;

/// <summary>Tasks no one waits for any more.</summary>
public static class AbandonedTask
{
    /// <summary>Leaves <paramref name="task"/> to end on its own; its failure, if any, is observed (never an unobserved exception).</summary>
    public static void Observe(Task task) =>
        _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
