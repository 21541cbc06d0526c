using System.Collections.Frozen;
using System.Globalization;

namespace Orders.Contracts;

/// <summary>Domain rules an order must meet to be processed; a violation sends it to the dead-letter topic.</summary>
public static class OrderValidator
{
    public const int MaxIdLength = 64;

    /// <summary>
    /// The longest product name (in UTF-16 code units, as .NET counts a string's length). Names are
    /// kept per partition in the aggregate, its checkpoints, the metrics' labels and the dashboard:
    /// one name of 400,000 characters made a checkpoint entry no record of the stats topic holds, and
    /// stopped the processor at every start.
    /// </summary>
    public const int MaxProductLength = 200;

    /// <summary>
    /// The highest price accepted. Sums are kept as exact decimals (at most ~7.9e28); a bound far
    /// above any real price keeps them exact for any number of orders a cluster could hold.
    /// </summary>
    public const double MaxPrice = 1_000_000_000;

    /// <summary>
    /// How far an order's <c>createdAt</c> may lie after the moment its record was written (the
    /// producer's clock against the order's source): beyond it the order claims to come from the
    /// future, and entering the aggregate's event-time window it would move the window there, leaving
    /// every real order late.
    /// </summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(1);

    /// <summary>
    /// The codes of ISO 4217 in use (2025), funds and precious metals included: the rule says an ISO
    /// 4217 code, and a currency is kept per partition in the aggregate and its checkpoints, so three
    /// letters alone (17,576 codes) let a stream of made-up codes outgrow a checkpoint.
    /// </summary>
    public static readonly FrozenSet<string> Currencies = FrozenSet.Create(StringComparer.Ordinal,
    [
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD",
        "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP",
        "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
        "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
        "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
        "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
        "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR",
        "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS",
        "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
        "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA",
        "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR",
        "ZMW", "ZWG",
    ]);

    /// <summary>How much of a value a message quotes: a broken field can be any length, and the message travels in a log line and a dead letter's header.</summary>
    private const int Quoted = 80;

    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;

    /// <param name="writtenAtMs">When the order's record was written (its Kafka timestamp, Unix ms), when known: <c>createdAt</c> may not lie more than <see cref="MaxClockSkew"/> after it.</param>
    /// <returns>null when valid, else what is wrong, in one sentence.</returns>
    public static string? Validate(Order order, long? writtenAtMs = null)
    {
        if (!order.HasIdOfAtMost(MaxIdLength))
        {
            return $"orderId must be 1 to {MaxIdLength} characters, not '{Quote(order.OrderId)}'";
        }

        if (string.IsNullOrWhiteSpace(order.Product))
        {
            return "product is empty";
        }

        if (order.Product.Length > MaxProductLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"product must be at most {MaxProductLength} characters, not {order.Product.Length:N0} ('{Quote(order.Product)}')");
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
            return $"currency must be a three-letter ISO 4217 code, not '{Quote(order.Currency)}'";
        }

        if (!Currencies.Contains(order.Currency))
        {
            return $"currency must be a three-letter ISO 4217 code, not '{order.Currency}', which ISO 4217 does not have";
        }

        if (writtenAtMs is > 0 and var written && (order.CreatedAt.Ticks - UnixEpochTicks) / TimeSpan.TicksPerMillisecond is var created
            && created > written + (long)MaxClockSkew.TotalMilliseconds)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"createdAt must not be after the record was written (more than {MaxClockSkew.TotalHours:0} h of clock skew), not {order.CreatedAt:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} for a record written at {DateTime.UnixEpoch.AddMilliseconds(written):yyyy-MM-dd'T'HH:mm:ss.fff'Z'}");
        }

        return null;
    }

    /// <summary>A value as a message quotes it: whole up to 80 characters, else its first 80 (never half a surrogate pair) and its length.</summary>
    public static string Quote(string value)
    {
        if (value.Length <= Quoted)
        {
            return value;
        }

        // Not between the two halves of a surrogate pair.
        var cut = char.IsHighSurrogate(value[Quoted - 1]) ? Quoted - 1 : Quoted;
        return string.Create(CultureInfo.InvariantCulture, $"{value[..cut]}... ({value.Length:N0} characters)");
    }
}
