using Orders.Avro;
using Orders.SchemaRegistry.Compatibility;

namespace Orders.SchemaRegistry.UnitTests;

public sealed class CompatibilityLevelTests
{
    // v1: {a}; v2: {a, b default}; v3: {b default} (a removed, which v1 cannot read as it has no default for a).
    private static readonly AvroSchema V1 = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""");
    private static readonly AvroSchema V2 = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""");
    private static readonly AvroSchema AddFieldWithoutDefault = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0},{"name":"c","type":"int"}]}""");
    private static readonly AvroSchema DropA = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"b","type":"int","default":0}]}""");
    private static readonly AvroSchema BWithoutDefault = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"b","type":"int"}]}""");

    [Theory]
    [InlineData(CompatibilityLevel.Backward, true)]
    [InlineData(CompatibilityLevel.Forward, false)]
    [InlineData(CompatibilityLevel.Full, false)]
    [InlineData(CompatibilityLevel.None, true)]
    public void Check_DroppingAFieldWithoutDefault(CompatibilityLevel level, bool compatible) =>
        Assert.Equal(compatible, CompatibilityLevels.Check(level, DropA, [(1, V2)]).Count == 0);

    [Theory]
    [InlineData(CompatibilityLevel.Backward, false)]
    [InlineData(CompatibilityLevel.Forward, true)]
    [InlineData(CompatibilityLevel.Full, false)]
    [InlineData(CompatibilityLevel.None, true)]
    public void Check_AddingAFieldWithoutDefault(CompatibilityLevel level, bool compatible) =>
        Assert.Equal(compatible, CompatibilityLevels.Check(level, AddFieldWithoutDefault, [(1, V2)]).Count == 0);

    [Theory]
    [InlineData(CompatibilityLevel.Backward, true)]
    [InlineData(CompatibilityLevel.BackwardTransitive, false)]
    [InlineData(CompatibilityLevel.Forward, true)]
    [InlineData(CompatibilityLevel.ForwardTransitive, false)]
    [InlineData(CompatibilityLevel.Full, true)]
    [InlineData(CompatibilityLevel.FullTransitive, false)]
    public void Check_TransitiveLevels_LookAtEveryVersion(CompatibilityLevel level, bool compatible)
    {
        // BWithoutDefault reads v2 data and v2 reads it, but it cannot read v1 data (no b there);
        // and v1 cannot read its data (no a). Only transitive levels see v1.
        var history = new List<(int, AvroSchema)> { (1, V1), (2, AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"int"}]}""")) };

        Assert.Equal(compatible, CompatibilityLevels.Check(level, BWithoutDefault, history).Count == 0);
    }

    [Fact]
    public void Check_NoEarlierVersions_IsAlwaysCompatible() =>
        Assert.Empty(CompatibilityLevels.Check(CompatibilityLevel.FullTransitive, V1, []));

    [Theory]
    [InlineData("backward", CompatibilityLevel.Backward)]
    [InlineData("FULL_TRANSITIVE", CompatibilityLevel.FullTransitive)]
    [InlineData("NONE", CompatibilityLevel.None)]
    public void TryParse_KnownLevel_Parses(string text, CompatibilityLevel expected)
    {
        Assert.True(CompatibilityLevels.TryParse(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("SIDEWAYS")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_UnknownLevel_Fails(string? text) => Assert.False(CompatibilityLevels.TryParse(text, out _));
}
