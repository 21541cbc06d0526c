using Microsoft.Extensions.Time.Testing;

namespace Orders.Producer.UnitTests;

public sealed class OrdersAheadTests
{
    [Fact]
    public async Task WithACount_HandsOutExactlyThatManyOrders_InTheGeneratorsOrder()
    {
        var time = new FakeTimeProvider();
        var expected = new OrderGenerator(new Random(4), time, invalidRatio: 0.1);
        const int Count = (OrdersAhead.BatchSize * 3) + 7;
        await using var ahead = new OrdersAhead(new OrderGenerator(new Random(4), time, invalidRatio: 0.1), schemaId: 9, Count, keepOrders: false, CancellationToken.None);

        var taken = 0;
        while (ahead.TryTake(out var ready) || (await ahead.NextBatchAsync(CancellationToken.None) && ahead.TryTake(out ready)))
        {
            var (order, valid) = expected.Next();
            Assert.Equal(order.OrderId, ready.Key.OrderId);
            Assert.Equal(valid, ready.Key.Valid);
            Assert.Equal(order.Price, ready.Key.Price);
            Assert.Equal(OrderSerializer.ToArray(order, 9), ready.Value);
            Assert.Null(ready.Order);
            taken++;
        }

        Assert.Equal(Count, taken);
    }

    [Fact(Timeout = 60_000)]
    public async Task MoreThanTheQueueHolds_TheGeneratorStopsAtAFullQueue_AndGoesOnAsItIsTaken()
    {
        var time = new FakeTimeProvider();
        var expected = new OrderGenerator(new Random(6), time);
        const int Count = (OrdersAhead.BatchSize * OrdersAhead.BatchesAhead * 3) + 5;
        await using var ahead = new OrdersAhead(new OrderGenerator(new Random(6), time), schemaId: 2, Count, keepOrders: false, CancellationToken.None);

        // Nothing is taken yet: the generator fills the queue and stops there.
        Assert.True(SpinWait.SpinUntil(() => ahead.Queued == OrdersAhead.BatchesAhead, TimeSpan.FromSeconds(30)), $"the queue held {ahead.Queued} batches");
        Assert.Equal(OrdersAhead.BatchesAhead, ahead.Queued);

        // Taking them wakes it (at half the queue) until every order was made: a lost wake-up would hang here.
        var taken = 0;
        while (ahead.TryTake(out var ready) || (await ahead.NextBatchAsync(CancellationToken.None) && ahead.TryTake(out ready)))
        {
            Assert.InRange(ahead.Queued, 0, OrdersAhead.BatchesAhead);
            Assert.Equal(expected.Next().Order.OrderId, ready.Key.OrderId);
            taken++;
        }

        Assert.Equal(Count, taken);
    }

    [Fact]
    public async Task WithoutACount_Dispose_StopsTheGenerator()
    {
        var ahead = new OrdersAhead(new OrderGenerator(new Random(5), new FakeTimeProvider()), schemaId: 1, count: null, keepOrders: true, CancellationToken.None);
        Assert.True(await ahead.NextBatchAsync(CancellationToken.None));
        Assert.True(ahead.TryTake(out var first));
        Assert.NotNull(first.Order);

        // Returns only once the generating thread has ended (it waits on a full channel meanwhile).
        await ahead.DisposeAsync();
    }
}
