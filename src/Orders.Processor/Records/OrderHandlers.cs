using Orders.Contracts;

namespace Orders.Processor.Records;

/// <summary>What the processor does with a valid order, before it is counted in the averages.</summary>
public interface IOrderHandler
{
    ValueTask HandleAsync(Order order, CancellationToken cancellationToken);
}

/// <summary>Stands in for a downstream call that fails now and then; <c>--fail-ratio</c> sets how often.</summary>
public sealed class FailureInjectingHandler(double failRatio, Random random) : IOrderHandler
{
    public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
    {
        if (failRatio > 0 && random.NextDouble() < failRatio)
        {
            throw new SimulatedTransientException($"simulated transient failure handling order {order.OrderId}");
        }

        return ValueTask.CompletedTask;
    }
}
