using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class RecentDeadLettersTests
{
    private static readonly DateTimeOffset At = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Snapshot_IsNewestFirst_AndKeepsOnlyTheCapacity()
    {
        var recent = new RecentDeadLetters(capacity: 3);
        for (var offset = 0; offset < 5; offset++)
        {
            recent.Add(At, "orders", 1, offset, "invalid", new InvalidOperationException($"error {offset}"));
        }

        var letters = recent.Snapshot();

        Assert.Equal([4L, 3L, 2L], letters.Select(l => l.Offset));
        Assert.Equal("InvalidOperationException", letters[0].ErrorType);
        Assert.Equal("error 4", letters[0].Error);
    }

    [Fact]
    public void Snapshot_BeforeAnyDeadLetter_IsEmpty() => Assert.Empty(new RecentDeadLetters().Snapshot());

    [Fact]
    public void Add_LongError_IsCut()
    {
        var recent = new RecentDeadLetters();

        recent.Add(At, "orders", 0, 0, "poison", new FormatException(new string('x', 10_000)));

        Assert.Equal(RecentDeadLetters.MaxErrorLength, recent.Snapshot()[0].Error.Length);
    }
}
