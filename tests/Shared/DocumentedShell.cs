using System.Text.RegularExpressions;

namespace Orders.Tests.Shared;

/// <summary>A shell block of the documentation: where it starts (its first line, 1-based) and what it says.</summary>
internal sealed record ShellBlock(string File, int Line, IReadOnlyList<string> Lines)
{
    public string Text => string.Join('\n', Lines) + "\n";

    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// The shell blocks (```sh, ```bash, ```shell) of README.md, docs/*.md and the projects' READMEs,
/// read from the source tree the tests were built from: what a user copies into a terminal.
/// </summary>
internal static partial class DocumentedShell
{
    /// <summary>The repository's root: the folder above the test binaries that holds Orders.slnx.</summary>
    public static string Root { get; } = FindRoot();

    public static IReadOnlyList<string> Files { get; } =
    [
        "README.md",
        .. Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal),
        .. Directory.GetFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal),
    ];

    public static IReadOnlyList<ShellBlock> Blocks() => [.. Files.SelectMany(BlocksOf)];

    public static IEnumerable<ShellBlock> BlocksOf(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, file));
        for (var i = 0; i < lines.Length; i++)
        {
            if (!Opening().IsMatch(lines[i]))
            {
                continue;
            }

            var start = i + 1;
            var end = start;
            while (end < lines.Length && !Closing().IsMatch(lines[end]))
            {
                end++;
            }

            yield return new ShellBlock(file, start + 1, lines[start..end]);
            i = end;
        }
    }

    /// <summary>A program on the PATH, or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Orders.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no Orders.slnx above {AppContext.BaseDirectory}: the documentation tests read the source tree");
    }

    [GeneratedRegex(@"^\s*```(sh|bash|shell)\s*$")]
    private static partial Regex Opening();

    [GeneratedRegex(@"^\s*```\s*$")]
    private static partial Regex Closing();
}
