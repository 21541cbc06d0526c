namespace Orders.Hosting;

/// <summary>
/// A file given on the command line (settings, credentials) read whole, once, so that a path that is not
/// a small regular file is an error with a reason, never a hang or an exhausted memory: <c>/dev/zero</c>
/// would be read until memory runs out, and a FIFO nobody writes to blocks its opening forever (a
/// process substitution, <c>&lt;(...)</c>, has a writer and opens at once).
/// </summary>
public static class SmallFile
{
    /// <summary>How long opening may block before the path is taken for a FIFO with no writer.</summary>
    public static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(5);

    /// <exception cref="IOException">Missing, unreadable, larger than <paramref name="maxBytes"/>, or not opened within <see cref="OpenTimeout"/>; the message says which.</exception>
    /// <exception cref="UnauthorizedAccessException">Not readable by this user.</exception>
    public static byte[] ReadAllBytes(string path, int maxBytes)
    {
        // Opening a FIFO blocks until something writes to it; the thread is left to it then (the process ends on this error).
        var opening = Task.Factory.StartNew(
            () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.None),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            if (!opening.Wait(OpenTimeout))
            {
                throw new IOException($"not opened within {OpenTimeout.TotalSeconds:0} s: not a regular file (a FIFO that nothing writes to?)");
            }
        }
        catch (AggregateException e) when (e.InnerException is { } inner)
        {
            // What opening threw, as a direct open would have thrown it (a path that is invalid, say).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
        }

        using var stream = opening.Result;
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0)
        {
            read += n;
        }

        return read > maxBytes
            ? throw new IOException($"larger than {maxBytes / 1024} KiB")
            : buffer[..read];
    }
}
