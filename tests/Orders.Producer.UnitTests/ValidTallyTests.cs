namespace Orders.Producer.UnitTests;

public sealed class ValidTallyTests
{
    [Fact]
    public void Orders_AreTalliedPerCurrency_NeverAcrossThem()
    {
        var tally = new ValidTally();
        tally.Add("EUR", 10.25, 2);
        tally.Add("USD", 100, 1);
        tally.Add("EUR", 0.1, 3);

        var valid = tally.Snapshot();

        Assert.Equal(3, valid.Count);
        Assert.Equal(["EUR", "USD"], valid.Currencies.Keys.Order());
        Assert.Equal(new CurrencyTotals(2, 10.35m, 20.8m), valid.Currencies["EUR"]);
        Assert.Equal(new CurrencyTotals(1, 100m, 100m), valid.Currencies["USD"]);
        Assert.Equal(5.175, valid.Currencies["EUR"].PriceMean);
        Assert.Equal(10.4, valid.Currencies["EUR"].OrderValueMean);
    }

    [Fact]
    public void Snapshot_IsACopy_UnchangedByLaterOrders()
    {
        var tally = new ValidTally();
        tally.Add("GBP", 1, 1);
        var before = tally.Snapshot();

        tally.Add("GBP", 2, 1);
        tally.Add("JPY", 300, 1);

        Assert.Equal(1, before.Count);
        Assert.Equal(2, tally.Snapshot().Currencies["GBP"].Count);
    }

    [Fact]
    public void NoOrders_HaveNoMeans()
    {
        Assert.Equal(0, ValidOrders.None.Count);
        Assert.Null(default(CurrencyTotals).PriceMean);
        Assert.Null(default(CurrencyTotals).OrderValueMean);
    }
}
