using System.Text;
using System.Text.Json;
using Orders.Cli.Output;
using Orders.Contracts;
using Orders.DeadLetters;

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

    [Fact]
    public void Printable_WritesControlCharactersAsEscapes_KeepingTabsAndLineEndsWhenAsked()
    {
        Assert.Equal("\\u001b[2J\\u001b[1;1Hall good\\u0000", TerminalText.Printable("\u001b[2J\u001b[1;1Hall good\0"));
        Assert.Equal("a\tb\\u000ac\\u009b", TerminalText.Printable("a\tb\nc\u009b"));
        Assert.Equal("at A()\n at B()\\u0007", TerminalText.Printable("at A()\n at B()\u0007", keepLineEnds: true));
        Assert.Equal("plain", TerminalText.Printable("plain"));
    }

    [Fact]
    public void ListAndShowText_NeverPrintARecordsEscapeSequences()
    {
        var letter = DeadLetter.From(
            new RecordPosition("orders_dlq", 0, 4),
            DateTimeOffset.UnixEpoch,
            Encoding.UTF8.GetBytes("k\u001b]0;title\u0007"),
            null,
            [Header(DeadLetterHeaders.ErrorMessage, "\u001b[2Jall good"), Header(DeadLetterHeaders.Reason, "poison\u001b[8m"), Header("x\u001b[31m", "y")]);

        var list = DeadLetterText.ListText("orders_dlq", 1, new DeadLetterFilter(null, null), [letter], DateTimeOffset.UnixEpoch);
        var show = DeadLetterText.ShowText(letter, new DecodedValue([new("currency", "EUR\u001b[0m")], null, null));

        Assert.DoesNotContain('\u001b', list);
        Assert.Contains("\\u001b[2Jall good", list, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', show);
        Assert.DoesNotContain('\u0007', show);
        Assert.Contains("EUR\\u001b[0m", show, StringComparison.Ordinal);
    }

    [Fact]
    public void ListText_ALetterWithAnErrorAndNoReadableOrigin_SaysWhyBesideTheError()
    {
        var letter = DeadLetter.From(
            new RecordPosition("orders_dlq", 0, 4), DateTimeOffset.UnixEpoch, null, null, [Header(DeadLetterHeaders.ErrorMessage, "boom"), Header(DeadLetterHeaders.OriginalTopic, "orders")]);

        var list = DeadLetterText.ListText("orders_dlq", 1, new DeadLetterFilter(null, null), [letter], DateTimeOffset.UnixEpoch);

        Assert.EndsWith("boom (no origin: no dlq.original.partition, dlq.original.offset header)", list.Split(Environment.NewLine)[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-30, 0)]
    [InlineData(12.5, 12.5)]
    public void ListJson_AgeIsNeverNegative_ALetterFromAClockAheadIsNoAge(double secondsBeforeNow, double ageSeconds)
    {
        var now = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
        var failedAt = DeadLetterText.Iso(now.AddSeconds(-secondsBeforeNow));
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 0, 4), now, null, null, [Header(DeadLetterHeaders.FailedAt, failedAt)]);

        var json = DeadLetterText.ListJson("orders_dlq", "orders", 1, new DeadLetterFilter(null, null), [letter], now);

        var listed = JsonDocument.Parse(json).RootElement.GetProperty("letters")[0];
        Assert.Equal(failedAt, listed.GetProperty("failedAt").GetString());
        Assert.Equal(ageSeconds, listed.GetProperty("ageSeconds").GetDouble());
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void ShowJson_AnInvalidOrdersNonFinitePrice_IsWrittenAsItsName(double price, string written)
    {
        var letter = DeadLetter.From(new RecordPosition("orders_dlq", 1, 9), DateTimeOffset.UnixEpoch, null, [0], [Header(DeadLetterHeaders.Reason, DeadLetterHeaders.ReasonInvalid)]);

        var json = DeadLetterText.ShowJson(letter, new DecodedValue([new("price", price)], null, "price must be a positive number"));

        Assert.Equal(written, JsonDocument.Parse(json).RootElement.GetProperty("order").GetProperty("price").GetString());
    }

    private static RecordHeader Header(string key, string value) => new(key, Encoding.UTF8.GetBytes(value));
}
