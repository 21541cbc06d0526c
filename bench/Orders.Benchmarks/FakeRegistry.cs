using System.Reflection;
using Confluent.SchemaRegistry;

namespace Orders.Benchmarks;

/// <summary>
/// A registry that knows one schema under id 1: the serdes ask it once and then use their caches,
/// so the benchmarks measure serialization, not HTTP.
/// </summary>
public class FakeRegistry : DispatchProxy
{
    private string _schema = "";

    public static ISchemaRegistryClient With(string schema)
    {
        var proxy = Create<ISchemaRegistryClient, FakeRegistry>();
        ((FakeRegistry)(object)proxy)._schema = schema;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        nameof(ISchemaRegistryClient.RegisterSchemaAsync) or nameof(ISchemaRegistryClient.GetSchemaIdAsync) => Task.FromResult(1),
        "RegisterSchemaWithResponseAsync" => Task.FromResult(new RegisteredSchema((string)args![0]!, 1, 1, _schema, SchemaType.Avro, [])),
        nameof(ISchemaRegistryClient.GetSchemaAsync) => Task.FromResult(new Schema(_schema, SchemaType.Avro)),
        nameof(ISchemaRegistryClient.ConstructValueSubjectName) => $"{args![0]}-value",
        nameof(ISchemaRegistryClient.ConstructKeySubjectName) => $"{args![0]}-key",
        "get_MaxCachedSchemas" => 1000,
        "Dispose" => null,
        // Confluent's serializer asks for the topic's associations first; none means the default subject.
        "GetAssociationsByResourceNameAsync" => EmptyResult(targetMethod!.ReturnType),
        _ => throw new NotSupportedException($"{targetMethod?.Name} is not faked"),
    };

    private static object EmptyResult(Type taskType)
    {
        var resultType = taskType.GetGenericArguments()[0];
        return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(resultType).Invoke(null, [Activator.CreateInstance(resultType)])!;
    }
}
