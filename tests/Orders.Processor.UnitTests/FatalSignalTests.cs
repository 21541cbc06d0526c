using System.Net;
using Confluent.SchemaRegistry;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests;

/// <summary>Whether the run is over, decided in one place.</summary>
public sealed class FatalSignalTests
{
    [Fact]
    public void TheFirstErrorIsTheRunsOne_AndEveryKindRecordedIsKnown()
    {
        var fatal = new FatalSignal();
        var first = new DeadLetterWriteException("letters");

        fatal.Set(first);
        fatal.Set(new Checkpoints.CheckpointWriteException("checkpoints"));

        Assert.Same(first, fatal.Error);
        Assert.True(fatal.Has<DeadLetterWriteException>());
        Assert.True(fatal.Has<Checkpoints.CheckpointWriteException>());
        Assert.False(fatal.Has<RegistryCredentialsException>());
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, true)]
    [InlineData(HttpStatusCode.Forbidden, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public void StopsOnRejectedCredentials_OnlyFor401And403_AndThenTheRunIsOver(HttpStatusCode status, bool stops)
    {
        var fatal = new FatalSignal();

        var stopped = fatal.StopsOnRejectedCredentials(new SchemaRegistryException("nope", status, (int)status * 100));

        Assert.Equal(stops, stopped);
        Assert.Equal(stops, fatal.IsSet);
        Assert.Equal(stops, fatal.Error is RegistryCredentialsException);
    }
}
