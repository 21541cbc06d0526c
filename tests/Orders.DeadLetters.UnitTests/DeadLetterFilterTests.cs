using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

public sealed class DeadLetterFilterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("90s", 0, 1, 30)]
    [InlineData("15m", 0, 15, 0)]
    [InlineData("2h", 2, 0, 0)]
    [InlineData("1d", 24, 0, 0)]
    [InlineData("1.5h", 1, 30, 0)]
    public void Since_ADuration_CountsBackFromNow(string text, int hours, int minutes, int seconds)
    {
        var since = SinceParser.Parse(text, Now, out var error);

        Assert.Null(error);
        Assert.Equal(Now - new TimeSpan(hours, minutes, seconds), since);
    }

    [Theory]
    [InlineData("2026-11-24", "2026-11-24T00:00:00Z")]
    [InlineData("2026-11-24T14:30", "2026-11-24T14:30:00Z")]
    [InlineData("2026-11-24T14:30:15Z", "2026-11-24T14:30:15Z")]
    [InlineData("2026-11-24T14:30:15.250+02:00", "2026-11-24T12:30:15.25Z")]
    public void Since_AnIsoTime_IsThatInstant_UtcWithoutAnOffset(string text, string expected)
    {
        var since = SinceParser.Parse(text, Now, out var error);

        Assert.Null(error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), since);
    }

    [Fact]
    public void Since_FurtherBackThanTheEpoch_MeansEverything() =>
        Assert.Equal(DateTimeOffset.UnixEpoch, SinceParser.Parse("999999999d", Now, out _));

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("15")]
    [InlineData("-15m")]
    [InlineData("15 m")]
    [InlineData("15w")]
    [InlineData("11/24/2026")]
    [InlineData("2026-13-01")]
    [InlineData("2026-11-24T25:00")]
    public void Since_OtherText_IsAnError(string text)
    {
        Assert.Null(SinceParser.Parse(text, Now, out var error));
        Assert.StartsWith($"--since '{text}' is neither a duration", error, StringComparison.Ordinal);
        Assert.Equal(error, SinceParser.Validate(text));
    }

    [Fact]
    public void Matches_ByReasonAndFromTheGivenTimeOn()
    {
        var poison = Letters.Make(0, 0, reason: DeadLetterHeaders.ReasonPoison, failedAt: Now.AddMinutes(-30));
        var recent = Letters.Make(0, 1, reason: DeadLetterHeaders.ReasonInvalid, failedAt: Now.AddMinutes(-5));
        var exactly = Letters.Make(0, 2, reason: DeadLetterHeaders.ReasonInvalid, failedAt: Now.AddMinutes(-10));

        var filter = new DeadLetterFilter(DeadLetterHeaders.ReasonInvalid, Now.AddMinutes(-10));

        Assert.False(filter.Matches(poison));
        Assert.True(filter.Matches(recent));
        Assert.True(filter.Matches(exactly));
        Assert.False(new DeadLetterFilter(Since: Now.AddMinutes(-4)).Matches(recent));
        Assert.True(new DeadLetterFilter().Matches(poison));
    }

    [Fact]
    public void ValidateReason_KnowsTheThreeReasons()
    {
        Assert.All(DeadLetterFilter.Reasons, r => Assert.Null(DeadLetterFilter.ValidateReason(r)));
        Assert.Equal("unknown reason 'Poison': use poison, invalid, retries-exhausted", DeadLetterFilter.ValidateReason("Poison"));
    }

    [Theory]
    [InlineData("42", null, 42L)]
    [InlineData("3:42", 3, 42L)]
    [InlineData("0:0", 0, 0L)]
    public void LetterAddress_OffsetOrPartitionColonOffset(string text, int? partition, long offset)
    {
        Assert.Equal(new LetterAddress(partition, offset), LetterAddress.Parse(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("", "bad offset ''")]
    [InlineData("x", "bad offset 'x'")]
    [InlineData("-1", "bad offset '-1'")]
    [InlineData("3:", "bad offset ''")]
    [InlineData(":3", "bad partition ''")]
    [InlineData("a:3", "bad partition 'a'")]
    [InlineData("1:2:3", "bad offset '2:3'")]
    [InlineData("99999999999:1", "bad partition '99999999999'")]
    public void LetterAddress_OtherText_IsAnError(string text, string why)
    {
        Assert.Null(LetterAddress.Parse(text, out var error));
        Assert.Equal($"'{text}' is not OFFSET or PARTITION:OFFSET: {why}", error);
    }
}
