using Orders.Cli.Output;

namespace Orders.Cli.UnitTests;

public sealed class DlqFormattingTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(59.9, "59s")]
    [InlineData(192, "3m12s")]
    [InlineData(7500, "2h05m")]
    [InlineData(273600, "3d04h")]
    [InlineData(-5, "0s")]
    public void Age_TheTwoLargestUnits(double seconds, string text) =>
        Assert.Equal(text, DeadLetterText.Age(TimeSpan.FromSeconds(seconds)));
}
