namespace Orders.Avro.UnitTests;

public sealed class AvroSchemaParserTests
{
    [Theory]
    [InlineData("""{"type":"record","name":"1R","fields":[]}""", "invalid name")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}""", "invalid default")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2147483648}]}""", "invalid default")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":"x"}]}""", "invalid default")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}""", "duplicate field")]
    [InlineData("""{"type":"enum","name":"E","symbols":["A","A"]}""", "duplicate enum symbol")]
    [InlineData("""{"type":"enum","name":"E","symbols":["A"],"default":"Z"}""", "not one of the symbols")]
    [InlineData("""["int",["long"]]""", "unions may not immediately contain other unions")]
    [InlineData("""["int","int"]""", "duplicate type in union")]
    [InlineData("""{"type":"fixed","name":"F","size":-1}""", "non-negative integer")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"Unknown"}]}""", "undefined name")]
    [InlineData("""{"type":"recordx","name":"R"}""", "undefined name")]
    [InlineData("""{"type":"record","name":"R"}""", "missing required attribute \"fields\"")]
    [InlineData("""{"type":"array"}""", "missing required attribute \"items\"")]
    [InlineData("""{"name":"R"}""", "no \"type\"")]
    [InlineData("""{"type":{"type":"string"}}""", "\"type\" must be a string")]
    [InlineData("""{"type":["null","int"]}""", "\"type\" must be a string")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":{"type":{"type":"int"}}}]}""", "\"type\" must be a string")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"}""", "Invalid JSON")]
    [InlineData("""{"type":"record","name":"R","fields":[],"x":1}{}""", "Invalid JSON")]
    [InlineData("42", "must be a JSON string, object or array")]
    [InlineData("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]}""", "invalid order")]
    [InlineData("""{"type":"record","name":"int","fields":[]}""", "primitive type")]
    [InlineData("""[{"type":"record","name":"R","fields":[]},{"type":"record","name":"R","fields":[]}]""", "can't redefine")]
    public void Parse_InvalidSchema_SaysWhatIsWrong(string json, string expected)
    {
        var error = Assert.Throws<AvroSchemaException>(() => AvroSchemaParser.Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Write_EquivalentSpellings_GiveTheSameCanonicalForm()
    {
        var compact = AvroSchemaParser.Parse("""{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"price","type":"double","default":0.0}]}""");
        var spaced = AvroSchemaParser.Parse("""
            { "fields": [ { "type": {"type": "string"}, "name": "id" },
                          { "default": 0.0, "name": "price", "type": "double" } ],
              "name": "shop.Order", "type": "record" }
            """);

        Assert.Equal(compact.ToString(), spaced.ToString());
    }

    [Fact]
    public void Write_DifferentDefaults_GiveDifferentCanonicalForms()
    {
        var a = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}""");
        var b = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2}]}""");

        Assert.NotEqual(a.ToString(), b.ToString());
    }

    [Fact]
    public void Write_CanonicalForm_ParsesBackToItself()
    {
        const string json = """
            {"type":"record","name":"Order","namespace":"shop","doc":"an order","aliases":["OldOrder"],"fields":[
              {"name":"id","type":{"type":"string","logicalType":"uuid"}},
              {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"],"default":"NEW"},"default":"NEW"},
              {"name":"hash","type":{"type":"fixed","name":"Hash","namespace":"other","size":16}},
              {"name":"tags","type":{"type":"map","values":{"type":"array","items":"string"}},"default":{}},
              {"name":"next","type":["null","Order"],"default":null,"aliases":["following"],"order":"ignore"},
              {"name":"again","type":"other.Hash"}]}
            """;
        var canonical = AvroSchemaParser.Parse(json).ToString();

        Assert.Equal(canonical, AvroSchemaParser.Parse(canonical).ToString());
        Assert.Contains("\"aliases\":[\"OldOrder\"]", canonical, StringComparison.Ordinal);
        Assert.Contains("\"logicalType\":\"uuid\"", canonical, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"other.Hash\"", canonical, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_CanonicalForm_IsReadableByApacheAvroStyleParsers()
    {
        var canonical = AvroSchemaParser.Parse("""{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"self","type":["null","R"],"default":null}]}""").ToString();

        Assert.Equal("""{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"self","type":["null","R"],"default":null}]}""", canonical);
    }

    [Fact]
    public void Parse_NamedReferenceInEnclosingNamespace_ResolvesToTheSameSchema()
    {
        var schema = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"a.R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"f","type":"E"}]}""");

        Assert.Same(schema.Fields[0].Schema, schema.Fields[1].Schema);
        Assert.Equal("a.E", ((EnumSchema)schema.Fields[1].Schema).FullName);
    }
}
