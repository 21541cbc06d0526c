using System.Reflection;
using Confluent.SchemaRegistry;
using Orders.Contracts;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// An <see cref="ISchemaRegistryClient"/> that knows one writer schema (order.avsc, under every id)
/// and registers any schema as id 1, unless told to fail: what the decoder and the checkpoint serde ask.
/// </summary>
public class FakeRegistry : DispatchProxy
{
    /// <summary>Thrown by every call while set (the registry is away, or refuses the credentials).</summary>
    public Exception? Failure { get; set; }

    public int SchemaCalls { get; private set; }

    /// <summary>Thrown by schema lookups only (the decoder's), while set.</summary>
    public Exception? LookupFailure { get; set; }

    /// <summary>The next this many schema lookups fail with <see cref="Failure"/>'s kind of error, then it answers again.</summary>
    public int FailingLookups { get; set; }

    /// <summary>While set, schema lookups answer only once it completes (the registry is slow): the caller goes the asynchronous way.</summary>
    public TaskCompletionSource? LookupGate { get; set; }

    /// <summary>While set, registrations answer only once it completes (the registry is slow).</summary>
    public TaskCompletionSource? RegisterGate { get; set; }

    public static (ISchemaRegistryClient Client, FakeRegistry Control) Create()
    {
        var proxy = DispatchProxy.Create<ISchemaRegistryClient, FakeRegistry>();
        return (proxy, (FakeRegistry)(object)proxy);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        switch (targetMethod?.Name)
        {
            case nameof(ISchemaRegistryClient.GetSchemaAsync):
                SchemaCalls++;
                if (FailingLookups > 0)
                {
                    FailingLookups--;
                    return Task.FromException<Schema>(new HttpRequestException("connection refused"));
                }

                if ((LookupFailure ?? Failure) is { } down)
                {
                    return Task.FromException<Schema>(down);
                }

                var schema = new Schema(OrderSchemas.Current, SchemaType.Avro);
                return LookupGate is { } gate ? gate.Task.ContinueWith(_ => schema, TaskScheduler.Default) : Task.FromResult(schema);
            case nameof(ISchemaRegistryClient.RegisterSchemaAsync):
                return Failure is { } refused ? Task.FromException<int>(refused)
                    : RegisterGate is { } registered ? registered.Task.ContinueWith(_ => 1, TaskScheduler.Default)
                    : Task.FromResult(1);
            case nameof(IDisposable.Dispose):
                return null;
            default:
                throw new NotSupportedException($"{targetMethod?.Name} is not faked");
        }
    }
}
