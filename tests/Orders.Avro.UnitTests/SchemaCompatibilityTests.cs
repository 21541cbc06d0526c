namespace Orders.Avro.UnitTests;

/// <summary>
/// Reader/writer pairs with Avro Java's verdicts. Most are the pairs of Avro Java's own
/// TestSchemaCompatibility* suites (schemas from its TestSchemas), written out as JSON here;
/// the rest cover the remaining rules of the specification's "Schema Resolution" section.
/// </summary>
public sealed class SchemaCompatibilityTests
{
    // Schemas of Avro Java's TestSchemas, by the same names.
    private const string Null = "\"null\"";
    private const string Boolean = "\"boolean\"";
    private const string Int = "\"int\"";
    private const string Long = "\"long\"";
    private const string Float = "\"float\"";
    private const string Double = "\"double\"";
    private const string String = "\"string\"";
    private const string Bytes = "\"bytes\"";
    private const string IntArray = """{"type":"array","items":"int"}""";
    private const string LongArray = """{"type":"array","items":"long"}""";
    private const string StringArray = """{"type":"array","items":"string"}""";
    private const string IntMap = """{"type":"map","values":"int"}""";
    private const string LongMap = """{"type":"map","values":"long"}""";
    private const string StringMap = """{"type":"map","values":"string"}""";
    private const string Enum1Ab = """{"type":"enum","name":"Enum1","symbols":["A","B"]}""";
    private const string Enum1AbDefaultA = """{"type":"enum","name":"Enum1","symbols":["A","B"],"default":"A"}""";
    private const string Enum1AbNamespace1 = """{"type":"enum","name":"Enum1","namespace":"namespace1","symbols":["A","B"]}""";
    private const string Enum1AbNamespace2 = """{"type":"enum","name":"Enum1","namespace":"namespace2","symbols":["A","B"]}""";
    private const string Enum1Abc = """{"type":"enum","name":"Enum1","symbols":["A","B","C"]}""";
    private const string Enum1Bc = """{"type":"enum","name":"Enum1","symbols":["B","C"]}""";
    private const string Enum2Ab = """{"type":"enum","name":"Enum2","symbols":["A","B"]}""";
    private const string EnumAbcDefaultA = """{"type":"enum","name":"Enum","symbols":["A","B","C"],"default":"A"}""";
    private const string EnumAbDefaultA = """{"type":"enum","name":"Enum","symbols":["A","B"],"default":"A"}""";
    private const string EmptyUnion = "[]";
    private const string NullUnion = """["null"]""";
    private const string IntUnion = """["int"]""";
    private const string LongUnion = """["long"]""";
    private const string FloatUnion = """["float"]""";
    private const string DoubleUnion = """["double"]""";
    private const string StringUnion = """["string"]""";
    private const string BytesUnion = """["bytes"]""";
    private const string IntStringUnion = """["int","string"]""";
    private const string StringIntUnion = """["string","int"]""";
    private const string IntFloatUnion = """["int","float"]""";
    private const string IntLongUnion = """["int","long"]""";
    private const string IntLongFloatDoubleUnion = """["int","long","float","double"]""";
    private const string NullIntArrayUnion = """["null",{"type":"array","items":"int"}]""";
    private const string NullIntMapUnion = """["null",{"type":"map","values":"int"}]""";
    private const string EmptyRecord1 = """{"type":"record","name":"Record1","fields":[]}""";
    private const string EmptyRecord2 = """{"type":"record","name":"Record2","fields":[]}""";
    private const string AIntRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"}]}""";
    private const string ALongRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"long"}]}""";
    private const string AIntBIntRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}""";
    private const string ADIntRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0}]}""";
    private const string AIntBDIntRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""";
    private const string ADIntBDIntRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"int","default":0}]}""";
    private const string ADIntBFixed4Record1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":{"type":"fixed","name":"Fixed","size":4}}]}""";
    private const string ADIntBFixed8Record1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":{"type":"fixed","name":"Fixed","size":8}}]}""";
    private const string ADIntBDIntStringUnionRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":["int","string"],"default":0}]}""";
    private const string ADIntBDIntUnionRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":["int"],"default":0}]}""";
    private const string ADIntBEnum1Record1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":{"type":"enum","name":"Enum1","symbols":["A","B"]}}]}""";
    private const string ADIntBEnum2Record1 = """{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":{"type":"enum","name":"Enum2","symbols":["A","B"]}}]}""";
    private const string Fixed4 = """{"type":"fixed","name":"Fixed","size":4}""";
    private const string Fixed8 = """{"type":"fixed","name":"Fixed","size":8}""";
    private const string NsRecord1 = """{"type":"record","name":"Record1","fields":[{"name":"f1","type":["null",{"type":"array","items":{"type":"record","name":"InnerRecord1","namespace":"ns1","fields":[{"name":"a","type":"int"}]}}]}]}""";
    private const string NsRecord2 = """{"type":"record","name":"Record1","fields":[{"name":"f1","type":["null",{"type":"array","items":{"type":"record","name":"InnerRecord1","namespace":"ns2","fields":[{"name":"a","type":"int"}]}}]}]}""";
    private const string WithoutNs = """{"type":"record","name":"Record","fields":[{"name":"f1","type":"int"}]}""";
    private const string WithNs = """{"type":"record","name":"Record","namespace":"ns","fields":[{"name":"f1","type":"int"}]}""";
    private const string IntList = """{"type":"record","name":"List","fields":[{"name":"head","type":"int"},{"name":"tail","type":"List"}]}""";
    private const string LongList = """{"type":"record","name":"List","fields":[{"name":"head","type":"long"},{"name":"tail","type":"List"}]}""";
    private const string EnumAbcDefaultARecord = """{"type":"record","name":"Record","fields":[{"name":"Field","type":{"type":"enum","name":"Schema","symbols":["A","B","C"],"default":"A"}}]}""";
    private const string EnumAbDefaultARecord = """{"type":"record","name":"Record","fields":[{"name":"Field","type":{"type":"enum","name":"Schema","symbols":["A","B"],"default":"A"}}]}""";
    private const string EnumAbcFieldDefaultBEnumDefaultARecord = """{"type":"record","name":"Record","fields":[{"name":"Field","type":{"type":"enum","name":"Schema","symbols":["A","B","C"],"default":"A"},"default":"B"}]}""";
    private const string EnumAbFieldDefaultAEnumDefaultBRecord = """{"type":"record","name":"Record","fields":[{"name":"Field","type":{"type":"enum","name":"Schema","symbols":["A","B"],"default":"B"},"default":"A"}]}""";

    public static TheoryData<string, string, string> Compatible() => new()
    {
        // TestSchemaCompatibility.COMPATIBLE_READER_WRITER_TEST_CASES
        { "boolean reads boolean", Boolean, Boolean },
        { "int reads int", Int, Int },
        { "long reads int (promotion)", Long, Int },
        { "long reads long", Long, Long },
        { "float reads int (promotion)", Float, Int },
        { "float reads long (promotion)", Float, Long },
        { "double reads long (promotion)", Double, Long },
        { "double reads int (promotion)", Double, Int },
        { "double reads float (promotion)", Double, Float },
        { "string reads string", String, String },
        { "bytes reads bytes", Bytes, Bytes },
        { "int array reads int array", IntArray, IntArray },
        { "long array reads int array", LongArray, IntArray },
        { "int map reads int map", IntMap, IntMap },
        { "long map reads int map", LongMap, IntMap },
        { "enum reads the same enum", Enum1Ab, Enum1Ab },
        { "enum with more symbols reads enum", Enum1Abc, Enum1Ab },
        { "string reads bytes", String, Bytes },
        { "bytes reads string", Bytes, String },
        { "empty union reads empty union", EmptyUnion, EmptyUnion },
        { "float union reads empty union", FloatUnion, EmptyUnion },
        { "int union reads int union", IntUnion, IntUnion },
        { "union branch order does not matter", IntStringUnion, StringIntUnion },
        { "int union reads empty union", IntUnion, EmptyUnion },
        { "long union reads empty union", LongUnion, EmptyUnion },
        { "long union reads int union", LongUnion, IntUnion },
        { "double union reads int union", DoubleUnion, IntUnion },
        { "double union reads long union", DoubleUnion, LongUnion },
        { "double union reads float union", DoubleUnion, FloatUnion },
        { "double union reads int|float union", DoubleUnion, IntFloatUnion },
        // Avro Java keeps its opposite expectation @Ignore'd: promotion applies inside unions too.
        { "float union reads int union", FloatUnion, IntUnion },
        { "float union reads long union", FloatUnion, LongUnion },
        { "string union reads empty union", StringUnion, EmptyUnion },
        { "string union reads bytes union", StringUnion, BytesUnion },
        { "bytes union reads empty union", BytesUnion, EmptyUnion },
        { "bytes union reads string union", BytesUnion, StringUnion },
        { "float reads every branch of int|float", Float, IntFloatUnion },
        { "long reads every branch of int|long", Long, IntLongUnion },
        { "double reads every branch of int|float", Double, IntFloatUnion },
        { "double reads every branch of int|long|float|double", Double, IntLongFloatDoubleUnion },
        { "float reads singleton float union", Float, FloatUnion },
        { "int union reads int", IntUnion, Int },
        { "int reads singleton int union", Int, IntUnion },
        { "fixed reads fixed of the same size", Fixed4, Fixed4 },
        { "empty record reads empty record", EmptyRecord1, EmptyRecord1 },
        { "empty record reads record, ignoring writer fields", EmptyRecord1, AIntRecord1 },
        { "record reads the same record", AIntRecord1, AIntRecord1 },
        { "reader field with default reads writer field", ADIntRecord1, AIntRecord1 },
        { "reader field with default reads same", ADIntRecord1, ADIntRecord1 },
        { "reader field without default reads writer field with default", AIntRecord1, ADIntRecord1 },
        { "reader fields without defaults read writer fields with defaults", AIntBIntRecord1, ADIntBDIntRecord1 },
        { "reader with defaults reads empty record", ADIntBDIntRecord1, EmptyRecord1 },
        { "record with long field reads int field", ALongRecord1, AIntRecord1 },
        { "reader ignores extra writer field", AIntRecord1, AIntBIntRecord1 },
        { "reader with defaults ignores extra writer field", ADIntRecord1, AIntBIntRecord1 },
        { "missing writer field filled from default", AIntBDIntRecord1, AIntRecord1 },
        { "missing writer fields filled from defaults", ADIntBDIntRecord1, AIntRecord1 },
        { "reader default fields read full writer", ADIntBDIntRecord1, AIntBIntRecord1 },
        { "enum with more symbols reads enum inside union", """["null",{"type":"enum","name":"Enum1","symbols":["A","B","C"]}]""", """["null",{"type":"enum","name":"Enum1","symbols":["A","B"]}]""" },
        { "null|int array union reads itself", NullIntArrayUnion, NullIntArrayUnion },
        { "null|int map union reads itself", NullIntMapUnion, NullIntMapUnion },
        { "recursive record reads itself", IntList, IntList },
        { "recursive record with long reads recursive record with int", LongList, IntList },
        { "null reads null", Null, Null },
        { "nested records in different namespaces match by unqualified name", NsRecord1, NsRecord2 },
        { "record without namespace reads record with namespace", WithoutNs, WithNs },
        { "record with namespace reads record without namespace", WithNs, WithoutNs },
        { "enums in different namespaces match by unqualified name", Enum1AbNamespace1, Enum1AbNamespace2 },

        // TestSchemaCompatibilityEnumDefaults
        { "reader enum default covers unknown writer symbol", EnumAbDefaultARecord, EnumAbcDefaultARecord },
        { "reader enum default covers unknown symbol whatever the field default", EnumAbFieldDefaultAEnumDefaultBRecord, EnumAbcFieldDefaultBEnumDefaultARecord },
        { "enum with default and more symbols reads enum", EnumAbcDefaultA, EnumAbDefaultA },
        { "enum with default reads enum with an extra symbol", Enum1AbDefaultA, Enum1Abc },

        // Aliases (Avro spec: reader aliases map writer names)
        { "reader record alias matches writer record name", """{"type":"record","name":"New","aliases":["Old"],"fields":[]}""", """{"type":"record","name":"Old","fields":[]}""" },
        { "reader record alias with namespace matches writer full name", """{"type":"record","name":"New","namespace":"a","aliases":["b.Old"],"fields":[]}""", """{"type":"record","name":"Old","namespace":"b","fields":[]}""" },
        { "reader field alias matches writer field name", """{"type":"record","name":"R","fields":[{"name":"renamed","aliases":["original"],"type":"int"}]}""", """{"type":"record","name":"R","fields":[{"name":"original","type":"int"}]}""" },
        { "reader enum alias matches writer enum name", """{"type":"enum","name":"New","aliases":["Old"],"symbols":["A"]}""", """{"type":"enum","name":"Old","symbols":["A"]}""" },
        { "reader fixed alias matches writer fixed name", """{"type":"fixed","name":"New","aliases":["Old"],"size":4}""", """{"type":"fixed","name":"Old","size":4}""" },

        // Unions and defaults in evolution, as the order schema will use them
        { "nullable field added with null default", """{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"note","type":["null","string"],"default":null}]}""", """{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}""" },
        { "field widened from float to double", """{"type":"record","name":"Order","fields":[{"name":"price","type":"double"}]}""", """{"type":"record","name":"Order","fields":[{"name":"price","type":"float"}]}""" },
        { "field made nullable", """{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"]}]}""", AIntRecordR },
        { "union widens with long branch reading int", """["null","long"]""", """["null","int"]""" },
        { "logical types are ignored: timestamp-millis reads long", """{"type":"long","logicalType":"timestamp-millis"}""", Long },
        { "logical types are ignored: long reads timestamp-millis", Long, """{"type":"long","logicalType":"timestamp-millis"}""" },
        { "logical types are ignored: uuid string reads string", """{"type":"string","logicalType":"uuid"}""", String },
        { "map of records reads map of records with an extra writer field", """{"type":"map","values":{"type":"record","name":"V","fields":[{"name":"a","type":"int"}]}}""", """{"type":"map","values":{"type":"record","name":"V","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}}""" },
        { "error type reads error type", """{"type":"error","name":"E","fields":[{"name":"m","type":"string"}]}""", """{"type":"error","name":"E","fields":[{"name":"m","type":"string"}]}""" },
    };

    public static TheoryData<string, string, string, IncompatibilityType> Incompatible() => new()
    {
        // TestSchemaCompatibility.INCOMPATIBLE_READER_WRITER_TEST_CASES / TestSchemaCompatibilityTypeMismatch
        { "null cannot read int", Null, Int, IncompatibilityType.TypeMismatch },
        { "null cannot read long", Null, Long, IncompatibilityType.TypeMismatch },
        { "boolean cannot read int", Boolean, Int, IncompatibilityType.TypeMismatch },
        { "int cannot read null", Int, Null, IncompatibilityType.TypeMismatch },
        { "int cannot read boolean", Int, Boolean, IncompatibilityType.TypeMismatch },
        { "int cannot read long (no narrowing)", Int, Long, IncompatibilityType.TypeMismatch },
        { "int cannot read float", Int, Float, IncompatibilityType.TypeMismatch },
        { "int cannot read double", Int, Double, IncompatibilityType.TypeMismatch },
        { "long cannot read float", Long, Float, IncompatibilityType.TypeMismatch },
        { "long cannot read double", Long, Double, IncompatibilityType.TypeMismatch },
        { "float cannot read double", Float, Double, IncompatibilityType.TypeMismatch },
        { "string cannot read boolean", String, Boolean, IncompatibilityType.TypeMismatch },
        { "string cannot read int", String, Int, IncompatibilityType.TypeMismatch },
        { "bytes cannot read null", Bytes, Null, IncompatibilityType.TypeMismatch },
        { "bytes cannot read int", Bytes, Int, IncompatibilityType.TypeMismatch },
        { "int array cannot read long array", IntArray, LongArray, IncompatibilityType.TypeMismatch },
        { "int map cannot read int array", IntMap, IntArray, IncompatibilityType.TypeMismatch },
        { "int array cannot read int map", IntArray, IntMap, IncompatibilityType.TypeMismatch },
        { "int map cannot read long map", IntMap, LongMap, IncompatibilityType.TypeMismatch },
        { "int cannot read record", Int, AIntRecord1, IncompatibilityType.TypeMismatch },
        { "int array cannot read string array", IntArray, StringArray, IncompatibilityType.TypeMismatch },
        { "string map cannot read int map", StringMap, IntMap, IncompatibilityType.TypeMismatch },
        { "recursive int list cannot read recursive long list", IntList, LongList, IncompatibilityType.TypeMismatch },
        { "record field int cannot read long", AIntRecord1, ALongRecord1, IncompatibilityType.TypeMismatch },
        { "string cannot read record", String, EmptyRecord1, IncompatibilityType.TypeMismatch },
        { "enum cannot read string", Enum1Ab, String, IncompatibilityType.TypeMismatch },
        { "fixed cannot read bytes", Fixed4, Bytes, IncompatibilityType.TypeMismatch },

        // TestSchemaCompatibilityMissingEnumSymbols
        { "enum lacking a writer symbol", Enum1Ab, Enum1Abc, IncompatibilityType.MissingEnumSymbols },
        { "enum lacking writer symbol C", Enum1Bc, Enum1Abc, IncompatibilityType.MissingEnumSymbols },
        { "enum lacking writer symbol A", Enum1Bc, Enum1Ab, IncompatibilityType.MissingEnumSymbols },
        { "record with enum lacking a writer symbol", """{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}""", """{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}""", IncompatibilityType.MissingEnumSymbols },

        // TestSchemaCompatibilityNameMismatch
        { "enum names differ", Enum1Ab, Enum2Ab, IncompatibilityType.NameMismatch },
        { "record names differ", EmptyRecord2, EmptyRecord1, IncompatibilityType.NameMismatch },
        { "fixed names differ", """{"type":"fixed","name":"F1","size":4}""", """{"type":"fixed","name":"F2","size":4}""", IncompatibilityType.NameMismatch },
        { "nested enum names differ", ADIntBEnum1Record1, ADIntBEnum2Record1, IncompatibilityType.NameMismatch },
        { "writer alias does not help: only reader aliases count", """{"type":"record","name":"New","fields":[]}""", """{"type":"record","name":"Old","aliases":["New"],"fields":[]}""", IncompatibilityType.NameMismatch },
        { "reader alias must match writer full name", """{"type":"record","name":"New","namespace":"a","aliases":["Old"],"fields":[]}""", """{"type":"record","name":"Old","namespace":"b","fields":[]}""", IncompatibilityType.NameMismatch },

        // TestSchemaCompatibilityFixedSizeMismatch
        { "fixed sizes differ", Fixed4, Fixed8, IncompatibilityType.FixedSizeMismatch },
        { "fixed sizes differ the other way", Fixed8, Fixed4, IncompatibilityType.FixedSizeMismatch },
        { "nested fixed sizes differ", ADIntBFixed8Record1, ADIntBFixed4Record1, IncompatibilityType.FixedSizeMismatch },

        // TestSchemaCompatibilityReaderFieldMissingDefaultValue
        { "new reader field without default", AIntRecord1, EmptyRecord1, IncompatibilityType.ReaderFieldMissingDefaultValue },
        { "second new reader field without default", AIntBDIntRecord1, EmptyRecord1, IncompatibilityType.ReaderFieldMissingDefaultValue },
        // Avro Java reports this one as TYPE_MISMATCH (it compares the enum with the writer record); same verdict.
        { "reader enum default does not stand in for a field default", EnumAbDefaultARecord, EmptyRecordNamedRecord, IncompatibilityType.ReaderFieldMissingDefaultValue },
        { "field alias not matching any writer field", """{"type":"record","name":"R","fields":[{"name":"b","aliases":["c"],"type":"int"}]}""", """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""", IncompatibilityType.ReaderFieldMissingDefaultValue },

        // TestSchemaCompatibilityMissingUnionBranch
        { "int union cannot read empty-less string union", IntUnion, StringUnion, IncompatibilityType.MissingUnionBranch },
        { "string union cannot read int union", StringUnion, IntUnion, IncompatibilityType.MissingUnionBranch },
        { "long union cannot read float union", LongUnion, FloatUnion, IncompatibilityType.MissingUnionBranch },
        { "int union cannot read int|string union", IntUnion, IntStringUnion, IncompatibilityType.MissingUnionBranch },
        { "null union cannot read int", NullUnion, Int, IncompatibilityType.MissingUnionBranch },
        { "nested union lacking a writer branch", ADIntBDIntUnionRecord1, ADIntBDIntStringUnionRecord1, IncompatibilityType.MissingUnionBranch },
        { "reader union lacking a writer branch", """["int","string"]""", """["int","string","long"]""", IncompatibilityType.MissingUnionBranch },
        { "null|string cannot read int", """["null","string"]""", Int, IncompatibilityType.MissingUnionBranch },

        // A writer union: every branch must be readable (Apache.Avro C#'s CanRead accepts any one).
        { "int cannot read int|string writer union", Int, IntStringUnion, IncompatibilityType.TypeMismatch },
        { "long cannot read int|float writer union", Long, IntFloatUnion, IncompatibilityType.TypeMismatch },
        { "string cannot read null|string writer union", String, """["null","string"]""", IncompatibilityType.TypeMismatch },
        { "field made non-nullable", AIntRecordR, """{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"]}]}""", IncompatibilityType.TypeMismatch },
    };

    private const string AIntRecordR = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";
    private const string EmptyRecordNamedRecord = """{"type":"record","name":"Record","fields":[]}""";

    [Theory]
    [MemberData(nameof(Compatible))]
    public void Check_CompatiblePair_FindsNoIncompatibility(string description, string reader, string writer)
    {
        var result = SchemaCompatibility.Check(AvroSchemaParser.Parse(reader), AvroSchemaParser.Parse(writer));

        Assert.True(result.Count == 0, $"{description}: {string.Join("; ", result)}");
    }

    [Theory]
    [MemberData(nameof(Incompatible))]
    public void Check_IncompatiblePair_ReportsTheRuleBroken(string description, string reader, string writer, IncompatibilityType expected)
    {
        var result = SchemaCompatibility.Check(AvroSchemaParser.Parse(reader), AvroSchemaParser.Parse(writer));

        Assert.True(result.Count > 0, $"{description}: expected {expected}, found compatible");
        Assert.Equal(expected, result[0].Type);
    }

    [Fact]
    public void Check_TableCoversAtLeastEightyPairs() =>
        Assert.True(Compatible().Count + Incompatible().Count >= 80, $"only {Compatible().Count + Incompatible().Count} pairs");

    [Fact]
    public void Check_MissingDefault_LocatesTheReaderField()
    {
        var result = SchemaCompatibility.Check(AvroSchemaParser.Parse(AIntBIntRecord1), AvroSchemaParser.Parse(AIntRecord1));

        var incompatibility = Assert.Single(result);
        Assert.Equal(IncompatibilityType.ReaderFieldMissingDefaultValue, incompatibility.Type);
        Assert.Equal("/fields/1", incompatibility.Location);
        Assert.Equal("b", incompatibility.Message);
    }
}
