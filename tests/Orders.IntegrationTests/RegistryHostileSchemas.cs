namespace Orders.IntegrationTests;

/// <summary>Valid schemas shaped to make a naive registry slow (as in Orders.Avro.UnitTests, which this project cannot see).</summary>
internal static class RegistryHostileSchemas
{
    /// <summary>Level n is record A{n}: <c>f1</c> defines A{n+1}, <c>f2</c> names it, <c>f3</c> is a nullable union of it; 3^depth paths.</summary>
    public static string Dag(int depth, string leaf = "int") => DagLevel(0, depth, leaf);

    private const string First = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
    private const string Rest = First + "0123456789";

    /// <summary>An enum of up to 210,000 distinct three-letter symbols: 100,000 make an 800 KB request.</summary>
    public static string Enum(int symbols, string extra = "") =>
        $$"""{"type":"enum","name":"E","symbols":[{{string.Join(",", Enumerable.Range(0, symbols).Select(i => $"\"{Symbol(i)}\""))}}{{extra}}]}""";

    public static string Symbol(int i) => $"{First[i % First.Length]}{Rest[i / First.Length % Rest.Length]}{Rest[i / First.Length / Rest.Length % Rest.Length]}";

    /// <summary>
    /// Unions of records all named R (in different namespaces). Every writer branch is tried against
    /// every reader branch and only the reader's last branch reads it: count² pairs.
    /// </summary>
    public static string SameNameUnion(int count, bool reader) =>
        $"[{string.Join(",", Enumerable.Range(0, count).Select(i => reader && i < count - 1
            ? $$"""{"type":"record","name":"R","namespace":"n{{i}}","fields":[{"name":"x","type":"int"}]}"""
            : $$"""{"type":"record","name":"R","namespace":"n{{i}}","fields":[]}"""))}]";

    /// <summary>
    /// Record Top whose field <c>b</c> is the last of a chain T0..T{length-1} (each holding the one
    /// before), defined in a field of another name so that a check meets the chain through <c>b</c>.
    /// </summary>
    public static string Chain(int length, string definitionsField)
    {
        var definitions = string.Join(",", Enumerable.Range(0, length).Select(k => k == 0
            ? """{"type":"record","name":"T0","fields":[]}"""
            : $$"""{"type":"record","name":"T{{k}}","fields":[{"name":"f","type":"T{{k - 1}}"}]}"""));
        return $$"""{"type":"record","name":"Top","fields":[{"name":"{{definitionsField}}","type":["null",{{definitions}}],"default":null},{"name":"b","type":"T{{length - 1}}"}]}""";
    }

    private static string DagLevel(int n, int depth, string leaf) => n == depth
        ? $$"""{"type":"record","name":"A{{n}}","fields":[{"name":"v","type":"{{leaf}}"}]}"""
        : $$"""{"type":"record","name":"A{{n}}","fields":[{"name":"f1","type":{{DagLevel(n + 1, depth, leaf)}}},{"name":"f2","type":"A{{n + 1}}"},{"name":"f3","type":["null","A{{n + 1}}"]}]}""";
}
