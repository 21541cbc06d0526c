using System.Text.Json;
using Orders.Cli.Output;
using Orders.Producer;

namespace Orders.Cli.UnitTests;

/// <summary>The producer's summary, as text and JSON: the possibly persisted deliveries said apart from the other failures.</summary>
public sealed class ProducerSummaryTests
{
    private static readonly ValidOrders OneEuroOrder = new(new Dictionary<string, CurrencyTotals>(StringComparer.Ordinal) { ["EUR"] = default(CurrencyTotals).Add(12.5, 2) });

    [Fact]
    public void Text_WithPossiblyPersistedFailures_SaysHowManyAndHowManyOfThoseAreValid()
    {
        var summary = new ProducerSummary(Produced: 95, Failed: 5, Invalid: 0, Seconds: 1) { Sent = 100, PossiblyPersisted = 2, ValidPossiblyPersisted = OneEuroOrder };

        Assert.Contains(
            "5 failed (2 of them after they were sent, with no answer: possibly written all the same, 1 of those valid), in ",
            Summaries.ToText(summary),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Text_WithoutThem_IsAsBefore() =>
        Assert.Contains("), 5 failed, in ", Summaries.ToText(new ProducerSummary(95, 5, 0, 1) { Sent = 100 }), StringComparison.Ordinal);

    [Fact]
    public void Json_HasThePossiblyPersistedCount_AndTheirValidOrdersPerCurrency()
    {
        var summary = new ProducerSummary(Produced: 95, Failed: 5, Invalid: 0, Seconds: 1) { Sent = 100, PossiblyPersisted = 2, ValidPossiblyPersisted = OneEuroOrder };

        var json = JsonDocument.Parse(Summaries.ToJson(summary)).RootElement;

        Assert.Equal(2, json.GetProperty("possiblyPersisted").GetInt64());
        var valid = json.GetProperty("validPossiblyPersisted");
        Assert.Equal(1, valid.GetProperty("count").GetInt64());
        Assert.Equal("12.5", valid.GetProperty("currencies").GetProperty("EUR").GetProperty("sum").GetString());
        Assert.Equal("25.0", valid.GetProperty("currencies").GetProperty("EUR").GetProperty("orderValueSum").GetString());
    }
}
