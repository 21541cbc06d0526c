using System.Reflection;

namespace Orders.Contracts;

/// <summary>The schema files shipped with this assembly, as text.</summary>
public static class OrderSchemas
{
    /// <summary>The current schema, <c>order.avsc</c>.</summary>
    public static string Current { get; } = Read("order.avsc");

    /// <summary>The earliest schema (orderId, product, price as float), <c>order-v1.avsc</c>.</summary>
    public static string Earliest { get; } = Read("order-v1.avsc");

    /// <summary>The processor's checkpoint record on <c>&lt;topic&gt;_stats</c>, <c>partition-checkpoint.avsc</c>.</summary>
    public static string Checkpoint { get; } = Read("partition-checkpoint.avsc");

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded schema {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
