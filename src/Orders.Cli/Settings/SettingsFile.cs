namespace Orders.Cli.Settings;

/// <summary>A settings file read whole, once: a path that is not a regular, reasonably small file is one line, not a hang or a stack trace.</summary>
internal sealed record SettingsFile(string Path, byte[] Bytes)
{
    /// <summary>Far above any real settings file; <c>--config /dev/zero</c> would otherwise read until memory runs out.</summary>
    public const int MaxBytes = 1024 * 1024;

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <param name="path">The file.</param>
    /// <param name="origin">Where the path came from, for the error: the flag, or what kind of file it is.</param>
    /// <exception cref="SettingsException">Missing, a directory, unreadable, not opened in time (a FIFO), or larger than <see cref="MaxBytes"/>.</exception>
    public static SettingsFile Read(string path, string origin = "--config")
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new SettingsException($"{origin} {path}: is a directory, not a settings file");
        }

        if (!File.Exists(full))
        {
            throw new SettingsException($"{origin} {path}: file not found");
        }

        try
        {
            var bytes = Orders.Hosting.SmallFile.ReadAllBytes(full, MaxBytes);
            // UTF-8 with a byte-order mark (what many Windows editors write) is UTF-8: .NET's own JSON loader takes it, so do we.
            return new SettingsFile(full, bytes.AsSpan().StartsWith(Utf8Bom) ? bytes[Utf8Bom.Length..] : bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"{origin} {path}: cannot be read ({e.Message})");
        }
    }
}
