using Orders.Processor.Failures;
using Orders.Processor.Hosting;

namespace Orders.Processor.UnitTests;

public sealed class FailurePolicyTests
{
    private readonly FailurePolicy _policy = new(new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), new Random(1)), maxAttempts: 3);

    [Theory]
    [InlineData(FailureKind.Poison, "poison")]
    [InlineData(FailureKind.Invalid, "invalid")]
    public void PoisonAndInvalid_AreDeadLetteredAtOnce(FailureKind kind, string reason)
    {
        var decision = _policy.Decide(kind, failures: 0, registryWaits: 0);
        Assert.Equal((FailureAction.DeadLetter, reason), (decision.Action, decision.Reason));
    }

    [Fact]
    public void Transient_IsRetriedUntilTheLastAttempt_ThenDeadLettered()
    {
        Assert.Equal(FailureAction.Retry, _policy.Decide(FailureKind.Transient, failures: 0, 0).Action);
        Assert.Equal(FailureAction.Retry, _policy.Decide(FailureKind.Transient, failures: 1, 0).Action);
        var last = _policy.Decide(FailureKind.Transient, failures: 2, 0);
        Assert.Equal((FailureAction.DeadLetter, "retries-exhausted"), (last.Action, last.Reason));
    }

    [Fact]
    public void RegistryOutage_IsWaitedOut_HoweverLong()
    {
        var decision = _policy.Decide(FailureKind.RegistryUnavailable, failures: 2, registryWaits: 1_000);
        Assert.Equal(FailureAction.WaitForRegistry, decision.Action);
        Assert.InRange(decision.Delay, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Retry_Delays_ComeFromTheBackoffSchedule()
    {
        var delay = _policy.Decide(FailureKind.Transient, failures: 0, 0).Delay;
        Assert.InRange(delay, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void OptionsValidator_NamesEveryBadSetting()
    {
        var result = new ProcessorOptionsValidator().Validate(null, new ProcessorOptions { GroupId = " ", MaxAttempts = 0, CheckpointChunkBytes = 10, CloseTimeout = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("GroupId", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("MaxAttempts", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("CheckpointChunkBytes", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("CloseTimeout", StringComparison.Ordinal));
        Assert.True(new ProcessorOptionsValidator().Validate(null, new ProcessorOptions()).Succeeded);
    }
}
