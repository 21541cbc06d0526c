using System.Diagnostics;
using System.Text.Json;

namespace Orders.Avro.UnitTests;

/// <summary>
/// The parser on valid but huge or intricate schemas, and on JSON text no string can hold. The
/// wall-clock bounds are generous by orders of magnitude, against the quadratic or exponential
/// behaviour of the earlier parser, not performance measurements.
/// </summary>
public sealed class AvroSchemaParserHostileInputTests
{
    [Fact]
    public void Parse_EnumOf100000Symbols_ChecksDuplicatesHashed()
    {
        var json = HostileSchemas.Enum(100_000);
        var stopwatch = Stopwatch.StartNew();

        var schema = (EnumSchema)AvroSchemaParser.Parse(json);

        // Generous: a list search per symbol took 13-17 s; a hashed one takes milliseconds.
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal(100_000, schema.Symbols.Count);
        Assert.Equal(99_999, schema.IndexOf("S99999"));
    }

    [Fact]
    public void Parse_EnumOf100000SymbolsWithTheLastRepeated_FindsTheDuplicate()
    {
        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse(HostileSchemas.Enum(100_000, ",\"S0\"")));

        Assert.Contains("duplicate enum symbol \"S0\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EnumDefaultAmong100000Symbols_IsFoundHashed()
    {
        var json = HostileSchemas.Enum(100_000).Replace("]}", "],\"default\":\"S99999\"}", StringComparison.Ordinal);

        Assert.Equal("S99999", ((EnumSchema)AvroSchemaParser.Parse(json)).Default);
    }

    [Fact]
    public void Parse_RecordOf50000FieldsWithTheLastRepeated_FindsTheDuplicate()
    {
        var fields = string.Join(",", Enumerable.Range(0, 50_000).Append(0).Select(i => $$"""{"name":"f{{i}}","type":"int"}"""));

        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse($$"""{"type":"record","name":"R","fields":[{{fields}}]}"""));

        Assert.Contains("duplicate field name \"f0\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetField_RecordOf50000Fields_FindsEachByName()
    {
        var fields = string.Join(",", Enumerable.Range(0, 50_000).Select(i => $$"""{"name":"f{{i}}","type":"int"}"""));
        var record = (RecordSchema)AvroSchemaParser.Parse($$"""{"type":"record","name":"R","fields":[{{fields}}]}""");

        Assert.Same(record.Fields[49_999], record.GetField("f49999"));
        Assert.Null(record.GetField("f50000"));
    }

    [Theory]
    [InlineData("""{"type":"string","doc":"\ud800"}""")]
    [InlineData("""{"type":"record","name":"R\udc00","fields":[]}""")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"string","default":"x\ud800y"}]}""")]
    [InlineData("""{"type":"enum","name":"E","symbols":["A"],"\ud800":1}""")]
    [InlineData("""{"type":"string","custom":["\ud800\ud800"]}""")]
    public void Parse_UnpairedSurrogateEscape_IsInvalidJson(string json)
    {
        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse(json));

        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnpairedSurrogateCharacter_IsInvalidJson()
    {
        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse("{\"type\":\"string\",\"doc\":\"\ud800\"}"));

        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SurrogatePairEscape_IsKept()
    {
        var schema = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","doc":"\ud83d\ude00","fields":[]}""");

        Assert.Equal("\U0001F600", schema.Doc);
    }

    [Fact]
    public void Parse_NameEndingInANewline_IsInvalid()
    {
        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse("""{"type":"record","name":"R\n","fields":[]}"""));

        Assert.Contains("invalid name", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Defaults() => new()
    {
        { "\"int\"", "1" },
        { "\"int\"", "\"1\"" },
        { "\"int\"", "2147483648" },
        { "\"int\"", "1.5" },
        { "\"long\"", "9223372036854775807" },
        { "\"long\"", "9223372036854775808" },
        { "\"float\"", "1e999" },
        { "\"float\"", "\"NaN\"" },
        { "\"double\"", "\"nan\"" },
        { "\"double\"", "\"-Infinity\"" },
        { "\"boolean\"", "false" },
        { "\"boolean\"", "0" },
        { "\"null\"", "null" },
        { "\"null\"", "0" },
        { "\"string\"", "\"a\"" },
        { "\"bytes\"", "1" },
        { """{"type":"fixed","name":"F","size":2}""", "\"ab\"" },
        { """{"type":"enum","name":"E","symbols":["A","B"]}""", "\"B\"" },
        { """{"type":"enum","name":"E","symbols":["A","B"]}""", "\"C\"" },
        { """{"type":"array","items":"int"}""", "[1,2]" },
        { """{"type":"array","items":"int"}""", "[1,\"x\"]" },
        { """{"type":"array","items":"int"}""", "{}" },
        { """{"type":"map","values":"int"}""", """{"a":1,"b":2}""" },
        { """{"type":"map","values":"int"}""", """{"a":1,"a":"x"}""" },
        { """{"type":"map","values":"int"}""", "[]" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"a":1}""" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", "{}" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"a":"x"}""" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"a":"x","a":1}""" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"a":1,"a":"x"}""" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"a":1,"unknown":"x"}""" },
        { """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""", """{"b":1,"b":2}""" },
        { """["null","int"]""", "null" },
        { """["null","int"]""", "1" },
        { """["int","null"]""", "null" },
        { """["null","int"]""", "\"x\"" },
        { """[{"type":"record","name":"R1","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"R2","fields":[{"name":"b","type":"string"}]}]""", """{"b":"s"}""" },
        { """[{"type":"record","name":"R1","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"R2","fields":[{"name":"b","type":"string"}]}]""", """{"c":1}""" },
        { Nested("array", "items", 60), Value(60) },
        { Nested("array", "items", 64), Value(64) },
        { Nested("array", "items", 65), Value(65) },
        { Nested("map", "values", 70), Value(70, "{\"k\":", "}") },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Parse_FieldDefault_IsAcceptedExactlyWhenDefaultValuesAcceptsIt(string schema, string value)
    {
        var field = ((RecordSchema)AvroSchemaParser.Parse($$"""{"type":"record","name":"W","fields":[{"name":"f","type":{{schema}}}]}""")).Fields[0];
        using var document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 256 });
        var expected = DefaultValues.IsValid(field.Schema, document.RootElement);

        var parsed = AvroSchemaParser.TryParse($$"""{"type":"record","name":"W","fields":[{"name":"f","type":{{schema}},"default":{{value}}}]}""", out _, out var error);

        Assert.True(expected == parsed, $"DefaultValues says {expected}, the parser {parsed}: {error}");
    }

    [Fact]
    public void Parse_DefaultThirtyDeepUnderAUnionOfTwoRecords_IsJudgedOncePerLevel()
    {
        // Each level may be an A or a B, both holding the same union: a naive check tries 2^30 paths
        // (thirty levels of record and union are the 64 levels of nesting DefaultValues allows).
        const string Types = """{"type":"record","name":"A","fields":[{"name":"x","type":["null","A",{"type":"record","name":"B","fields":[{"name":"x","type":["null","A","B"]},{"name":"y","type":"int","default":0}]}]}]}""";
        var budget = new SchemaWorkBudget(long.MaxValue);

        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse(WithDefault(Types, Value(30, "{\"x\":", "}", leaf: "5")), budget));

        Assert.Contains("invalid default", error.Message, StringComparison.Ordinal);
        Assert.InRange(budget.Spent, 30, 30 * 20);
        Assert.NotNull(AvroSchemaParser.Parse(WithDefault(Types, Value(30, "{\"x\":", "}", leaf: "null"))));
    }

    [Fact]
    public void Parse_DefaultValidationOverBudget_ThrowsSchemaTooComplex()
    {
        var json = WithDefault("""{"type":"array","items":"int"}""", $"[{string.Join(",", Enumerable.Repeat(1, 1000))}]");

        Assert.Throws<SchemaTooComplexException>(() => AvroSchemaParser.Parse(json, new SchemaWorkBudget(100)));
    }

    private static string WithDefault(string type, string value) =>
        $$"""{"type":"record","name":"Holder","fields":[{"name":"deep","type":{{type}},"default":{{value}}}]}""";

    private static string Nested(string type, string child, int depth) =>
        depth == 0 ? "\"int\"" : $$"""{"type":"{{type}}","{{child}}":{{Nested(type, child, depth - 1)}}}""";

    private static string Value(int depth, string open = "[", string close = "]", string leaf = "1") =>
        string.Concat(Enumerable.Repeat(open, depth)) + leaf + string.Concat(Enumerable.Repeat(close, depth));
}
