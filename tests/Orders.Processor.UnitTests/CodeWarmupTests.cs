using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Avro;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor.Aggregates;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests;

public sealed class CodeWarmupTests
{
    [Fact]
    public void Methods_CoverTheRecordPath_InEachOfTheProcessorsAssemblies()
    {
        var methods = CodeWarmup.Methods().ToHashSet();

        Assert.Contains(typeof(PartitionAggregate).GetMethod(nameof(PartitionAggregate.Add))!, methods);
        Assert.Contains(typeof(OrderDecoder).GetMethod(nameof(OrderDecoder.DecodeAsync), [typeof(ReadOnlyMemory<byte>)])!, methods);
        Assert.Contains(typeof(Utf8StringPool).GetMethod(nameof(Utf8StringPool.Get))!, methods);
        Assert.Contains(typeof(OrderValidator).GetMethod(nameof(OrderValidator.Validate))!, methods);
        Assert.Contains(typeof(FetchAheadConsumer).GetMethod(nameof(FetchAheadConsumer.Consume))!, methods);
        Assert.Contains(typeof(PartitionAggregate).GetConstructor([typeof(int)])!, methods);
        Assert.Equal(CodeWarmup.Assemblies.Count, methods.Select(m => m.Module.Assembly).Distinct().Count());
    }

    [Fact]
    public void Methods_LeaveOutWhatHasNoBodyOrNeedsATypeArgument()
    {
        var methods = CodeWarmup.Methods().ToList();

        Assert.DoesNotContain(methods, m => m.IsAbstract || m.ContainsGenericParameters || m.DeclaringType!.IsInterface);
        Assert.DoesNotContain(typeof(ResolvingReader).GetMethods().Single(m => m.Name == nameof(ResolvingReader.Read) && m.IsGenericMethodDefinition), methods);
        Assert.DoesNotContain(methods, m => m.GetMethodImplementationFlags().HasFlag(MethodImplAttributes.Runtime));
    }

    [Fact]
    public void PrepareAll_CompilesEveryMethodItFinds()
    {
        var (prepared, failed) = CodeWarmup.PrepareAll();

        Assert.Equal(0, failed);
        Assert.Equal(CodeWarmup.Methods().Count(), prepared);
        Assert.True(prepared > 1000, $"{prepared} methods prepared");
    }

    [Fact]
    public void Start_StartsOncePerProcess()
    {
        CodeWarmup.Start(NullLogger.Instance);

        Assert.False(CodeWarmup.Start(NullLogger.Instance));
    }
}
