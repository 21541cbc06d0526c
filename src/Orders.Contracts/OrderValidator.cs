namespace Orders.Contracts;

/// <summary>Domain rules an order must meet to be processed; a violation sends it to the dead-letter topic.</summary>
public static class OrderValidator
{
    public const int MaxIdLength = 64;

    /// <summary>
    /// The highest price accepted. Sums are kept as exact decimals (at most ~7.9e28); a bound far
    /// above any real price keeps them exact for any number of orders a cluster could hold.
    /// </summary>
    public const double MaxPrice = 1_000_000_000;

    /// <returns>null when valid, else what is wrong, in one sentence.</returns>
    public static string? Validate(Order order)
    {
        if (!order.HasIdOfAtMost(MaxIdLength))
        {
            return $"orderId must be 1 to {MaxIdLength} characters, not '{order.OrderId}'";
        }

        if (string.IsNullOrWhiteSpace(order.Product))
        {
            return "product is empty";
        }

        if (!double.IsFinite(order.Price) || order.Price <= 0 || order.Price > MaxPrice)
        {
            return $"price must be a positive number of at most {MaxPrice:0}, not {order.Price}";
        }

        if (order.Quantity < 1)
        {
            return $"quantity must be at least 1, not {order.Quantity}";
        }

        if (order.Currency is not [>= 'A' and <= 'Z', >= 'A' and <= 'Z', >= 'A' and <= 'Z'])
        {
            return $"currency must be a three-letter ISO 4217 code, not '{order.Currency}'";
        }

        return null;
    }
}
