using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.Records;

namespace Orders.Processor.UnitTests;

public sealed class FailurePolicyTests
{
    private readonly FatalSignal _fatal = new();
    private readonly FailurePolicy _policy;

    public FailurePolicyTests() => _policy = new(new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), new Random(1)), maxAttempts: 3, _fatal);

    public static TheoryData<Exception, string> DeadLetteredAtOnce() => new()
    {
        { new PoisonRecordException("bad magic byte"), "poison" },
        { new InvalidOrderException("negative price"), "invalid" },
    };

    [Theory]
    [MemberData(nameof(DeadLetteredAtOnce))]
    public void PoisonAndInvalid_AreDeadLetteredAtOnce(Exception error, string reason)
    {
        var outcome = _policy.Decide(error, failures: 0, registryWaits: 0);
        Assert.Equal((RecordEnd.DeadLettered, reason, error), (outcome.End, outcome.Reason, outcome.Error));
    }

    [Fact]
    public void Transient_IsRetriedUntilTheLastAttempt_ThenDeadLettered()
    {
        var error = new TimeoutException("downstream");
        Assert.Equal(RecordEnd.Retry, _policy.Decide(error, failures: 0, 0).End);
        Assert.Equal(RecordEnd.Retry, _policy.Decide(error, failures: 1, 0).End);
        var last = _policy.Decide(error, failures: 2, 0);
        Assert.Equal((RecordEnd.DeadLettered, "retries-exhausted"), (last.End, last.Reason));
    }

    [Fact]
    public void RegistryOutage_IsWaitedOut_HoweverLong()
    {
        var outcome = _policy.Decide(new RegistryUnavailableException("refused", new HttpRequestException("refused")), failures: 2, registryWaits: 1_000);
        Assert.Equal(RecordEnd.Wait, outcome.End);
        Assert.False(outcome.Stopped);
        Assert.InRange(outcome.Delay, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void CredentialsRejected_StopTheRun_AndTheRecordWaitsForTheNext()
    {
        var outcome = _policy.Decide(new Confluent.SchemaRegistry.SchemaRegistryException("no", System.Net.HttpStatusCode.Unauthorized, 40101), failures: 0, 0);

        Assert.True(outcome.Stopped);
        Assert.IsType<RegistryCredentialsException>(_fatal.Error);
    }

    [Fact]
    public void Retry_Delays_ComeFromTheBackoffSchedule()
    {
        var delay = _policy.Decide(new TimeoutException("downstream"), failures: 0, 0).Delay;
        Assert.InRange(delay, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void OptionsValidator_NamesEveryBadSetting()
    {
        var result = new ProcessorOptionsValidator().Validate(null, new ProcessorOptions { GroupId = " ", MaxAttempts = 0, CheckpointChunkBytes = 10, CloseTimeout = TimeSpan.Zero, FetchAhead = -1 });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("GroupId", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("MaxAttempts", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("CheckpointChunkBytes", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("CloseTimeout", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Processor:FetchAhead must be between 0 and 1000000, not -1", StringComparison.Ordinal));
        Assert.True(new ProcessorOptionsValidator().Validate(null, new ProcessorOptions { FetchAhead = 0 }).Succeeded);

        // A base delay past the default maximum says which flag set it and what to change.
        var delays = new ProcessorOptionsValidator().Validate(null, new ProcessorOptions { RetryBaseDelay = TimeSpan.FromSeconds(6) });
        Assert.Equal(
            "Processor:RetryMaxDelay (5000 ms) must be at least Processor:RetryBaseDelay (--retry-delay-ms, 6000 ms): raise the first or lower the second",
            Assert.Single(delays.Failures!));
        Assert.True(new ProcessorOptionsValidator().Validate(null, new ProcessorOptions()).Succeeded);
    }
}
