using Microsoft.Extensions.Time.Testing;

namespace Orders.Hosting.UnitTests;

/// <summary>A flood of identical messages becomes one line and a count per window, driven by a fake clock.</summary>
public sealed class RepeatSuppressorTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<(string First, int Count, TimeSpan Over)> _reported = [];

    private RepeatSuppressor<string> Create() => new(_time, Window, (first, count, over) => _reported.Add((first, count, over)));

    [Fact]
    public void FirstOccurrence_IsLogged_IdenticalOnesWithinTheWindow_AreNot()
    {
        using var suppressor = Create();

        var decisions = Enumerable.Range(0, 241).Select(i =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(200));
            return suppressor.ShouldLog("resolve", "Failed to resolve 'nohost:1'");
        }).ToList();

        Assert.True(decisions[0]);
        Assert.All(decisions.Skip(1), Assert.False);
        Assert.Empty(_reported);
    }

    [Fact]
    public void WhenTheWindowEnds_TheCountIsReportedOnce_WithTheFirstMessageAndTheWindow()
    {
        using var suppressor = Create();
        suppressor.ShouldLog("resolve", "first");
        for (var i = 0; i < 240; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            suppressor.ShouldLog("resolve", "later");
        }

        _time.Advance(Window);

        var report = Assert.Single(_reported);
        Assert.Equal(("first", 240, Window), report);
    }

    [Fact]
    public void AFloodThatGoesOn_IsReportedOncePerWindow_AndNeverLoggedInFullAgain()
    {
        using var suppressor = Create();
        var logged = 0;
        for (var second = 0; second < 180; second++)
        {
            for (var i = 0; i < 20; i++)
            {
                logged += suppressor.ShouldLog("resolve", "x") ? 1 : 0;
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(1, logged);
        Assert.Equal(3, _reported.Count);
        Assert.Equal(180 * 20 - 1, _reported.Sum(r => r.Count));
    }

    [Fact]
    public void AfterAQuietWindow_TheMessageIsForgotten_AndLoggedInFullWhenItReturns()
    {
        using var suppressor = Create();
        suppressor.ShouldLog("resolve", "x");
        _time.Advance(Window);
        _time.Advance(Window);

        Assert.True(suppressor.ShouldLog("resolve", "x"));
        Assert.Empty(_reported);
    }

    [Fact]
    public void DifferentMessages_AreCountedSeparately()
    {
        using var suppressor = Create();

        Assert.True(suppressor.ShouldLog("a", "a"));
        Assert.True(suppressor.ShouldLog("b", "b"));
        Assert.False(suppressor.ShouldLog("a", "a"));
        Assert.False(suppressor.ShouldLog("a", "a"));
        Assert.False(suppressor.ShouldLog("b", "b"));
        _time.Advance(Window);

        Assert.Equal([("a", 2), ("b", 1)], _reported.Select(r => (r.First, r.Count)).OrderBy(r => r.First));
    }

    [Fact]
    public void Dispose_ReportsWhatIsStillPending()
    {
        var suppressor = Create();
        suppressor.ShouldLog("a", "a");
        suppressor.ShouldLog("a", "a");
        _time.Advance(TimeSpan.FromSeconds(10));

        suppressor.Dispose();

        Assert.Equal(("a", 1, TimeSpan.FromSeconds(10)), Assert.Single(_reported));
        Assert.True(suppressor.ShouldLog("a", "a"));
    }

    [Fact]
    public void BeyondTheTrackingLimit_NewMessagesPassUnsuppressed()
    {
        using var suppressor = Create();
        for (var i = 0; i < RepeatSuppressor<string>.MaxTracked; i++)
        {
            suppressor.ShouldLog($"m{i}", "m");
        }

        Assert.True(suppressor.ShouldLog("one more", "x"));
        Assert.True(suppressor.ShouldLog("one more", "x"));
        Assert.False(suppressor.ShouldLog("m0", "m"));
    }

    [Theory]
    [InlineData("nohost:1/bootstrap: Failed to resolve 'nohost:1': Name or service not known (after 0ms in state CONNECT)",
        "nohost:1/bootstrap: Failed to resolve 'nohost:1': Name or service not known (after 11ms in state CONNECT)")]
    [InlineData("localhost:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)",
        "localhost:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 1ms in state CONNECT, 12 identical error(s) suppressed)")]
    [InlineData("Timed out after 1.5s", "Timed out after 30 s")]
    public void KeyOf_IgnoresTimingsAndLibrdkafkasOwnSuppressionCount(string one, string other) =>
        Assert.Equal(RepeatSuppressor.KeyOf(one), RepeatSuppressor.KeyOf(other));

    [Theory]
    [InlineData("1/1 brokers are down", "2/3 brokers are down")]
    [InlineData("orders [1]: offset out of range", "orders [2]: offset out of range")]
    public void KeyOf_KeepsWhatTellsMessagesApart(string one, string other) =>
        Assert.NotEqual(RepeatSuppressor.KeyOf(one), RepeatSuppressor.KeyOf(other));
}
