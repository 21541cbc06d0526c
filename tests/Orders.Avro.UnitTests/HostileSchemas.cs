namespace Orders.Avro.UnitTests;

/// <summary>Valid schemas shaped to make naive algorithms slow: shared named types, long chains, wide enums and unions.</summary>
internal static class HostileSchemas
{
    /// <summary>
    /// Level n is record A{n} with <c>f1</c> defining A{n+1}, <c>f2</c> naming it and <c>f3</c> a
    /// nullable union of it: 3^depth paths through 2 KB-per-15-levels of JSON. The last level
    /// holds one field <c>v</c> of <paramref name="leaf"/>.
    /// </summary>
    public static string Dag(int depth, string leaf = "int") => DagLevel(0, depth, leaf);

    /// <summary>
    /// A reader (or writer) record <c>Top</c> whose field <c>b</c> is the last of a chain of
    /// records T0..T{length-1}, each T{k} holding T{k-1}. The chain's definitions sit in a
    /// field of another name (<paramref name="definitionsField"/>), so a check of reader
    /// <c>a</c> against writer <c>x</c> meets them first through <c>b</c>: one path
    /// <paramref name="length"/> pairs deep, from JSON only a few levels deep.
    /// </summary>
    public static string Chain(int length, string definitionsField)
    {
        var definitions = string.Join(",", Enumerable.Range(0, length).Select(k => k == 0
            ? """{"type":"record","name":"T0","fields":[]}"""
            : $$"""{"type":"record","name":"T{{k}}","fields":[{"name":"f","type":"T{{k - 1}}"}]}"""));
        return $$"""{"type":"record","name":"Top","fields":[{"name":"{{definitionsField}}","type":["null",{{definitions}}],"default":null},{"name":"b","type":"T{{length - 1}}"}]}""";
    }

    public static string Enum(int symbols, string extra = "") =>
        $$"""{"type":"enum","name":"E","symbols":[{{string.Join(",", Enumerable.Range(0, symbols).Select(i => $"\"S{i}\""))}}{{extra}}]}""";

    /// <summary>A union of records R0..R{count-1}, each with one int field.</summary>
    public static string RecordUnion(int count) =>
        $"[{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"type":"record","name":"R{{i}}","fields":[{"name":"a","type":"int"}]}"""))}]";

    private static string DagLevel(int n, int depth, string leaf) => n == depth
        ? $$"""{"type":"record","name":"A{{n}}","fields":[{"name":"v","type":"{{leaf}}"}]}"""
        : $$"""{"type":"record","name":"A{{n}}","fields":[{"name":"f1","type":{{DagLevel(n + 1, depth, leaf)}}},{"name":"f2","type":"A{{n + 1}}"},{"name":"f3","type":["null","A{{n + 1}}"]}]}""";
}
