using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Avro.Generic;
using Avro.IO;
using Confluent.SchemaRegistry;
using Orders.Contracts;
using Orders.Decoding;
using Orders.IntegrationTests.Infrastructure;
using Orders.Processor;
using Orders.Processor.Records;

namespace Orders.IntegrationTests;

/// <summary>
/// Whatever the registry calls compatible with <c>order.avsc</c>, the processor reads, and nothing
/// else: writer variants of the order are registered through the registry's REST API, judged by its
/// compatibility endpoint, and decoded by <see cref="OrderDecoder"/> from bytes Apache.Avro wrote.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class SchemaResolutionTests(StackFixture fixture) : IDisposable
{
    private const string MediaType = "application/vnd.schemaregistry.v1+json";
    private const string Id = """{"name":"orderId","type":"string"}""";
    private const string Product = """{"name":"product","type":"string"}""";
    private const string FloatPrice = """{"name":"price","type":"float"}""";
    private const string DoublePrice = """{"name":"price","type":"double"}""";

    private readonly HttpClient _http = new() { BaseAddress = new Uri(fixture.RegistryUrl + "/") };

    public void Dispose() => _http.Dispose();

    /// <summary>Writer schemas, and whether the Avro specification lets order.avsc read them.</summary>
    private static readonly (string Name, string Schema, bool Compatible)[] Variants =
    [
        ("order.avsc itself", OrderSchemas.Current, true),
        ("the earliest schema, float price", OrderSchemas.Earliest, true),
        ("earliest fields in namespace shop", Record("shop", Id, Product, FloatPrice), true),
        ("earliest fields with no namespace", Record(null, Id, Product, FloatPrice), true),
        ("earliest fields, double price, deep namespace", Record("com.example.legacy.v1", Id, Product, DoublePrice), true),
        ("int price", Record("shop", Id, Product, """{"name":"price","type":"int"}"""), true),
        ("long price", Record(null, Id, Product, """{"name":"price","type":"long"}"""), true),
        ("price as a union of numbers", Record("shop", Id, Product, """{"name":"price","type":["int","long","float","double"]}"""), true),
        ("price as a one-branch union", Record("shop", Id, Product, """{"name":"price","type":["float"]}"""), true),
        ("orderId as bytes", Record("shop", """{"name":"orderId","type":"bytes"}""", Product, DoublePrice), true),
        ("product as string-or-bytes", Record("shop", Id, """{"name":"product","type":["bytes","string"]}""", DoublePrice), true),
        ("fields reordered", Record("shop", DoublePrice, Product, Id), true),
        ("extra writer fields of every kind", Record("shop", Id, """{"name":"note","type":["null","string"],"default":null}""", Product,
            """{"name":"tags","type":{"type":"array","items":"string"}}""", """{"name":"attrs","type":{"type":"map","values":"int"}}""",
            """{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"},{"name":"zip","type":["null","int"]}]}}""",
            FloatPrice, """{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["RETAIL","WHOLESALE"]}}""", """{"name":"hash","type":{"type":"fixed","name":"Hash","size":4}}"""), true),
        ("some defaulted fields written", Record("shop", Id, Product, DoublePrice, """{"name":"quantity","type":"int"}""", """{"name":"channel","type":"string"}"""), true),
        ("createdAt as a plain long", Record(null, Id, Product, DoublePrice, """{"name":"createdAt","type":"long"}"""), true),
        ("createdAt as int", Record(null, Id, Product, DoublePrice, """{"name":"createdAt","type":"int"}"""), true),
        ("customerId as bytes", Record("shop", Id, Product, DoublePrice, """{"name":"customerId","type":"bytes"}"""), true),
        ("price with doc and custom attributes", Record("shop", Id, Product, """{"name":"price","type":{"type":"double","scale":2},"doc":"unit price","x-unit":"EUR"}"""), true),
        ("a top-level one-branch union", $"[{Record("shop", Id, Product, FloatPrice)}]", true),
        ("two orders in a top-level union", $"[{Record("a", Id, Product, FloatPrice)},{Record("b", Id, Product, DoublePrice)}]", true),
        ("nullable price", Record("shop", Id, Product, """{"name":"price","type":["null","double"]}"""), false),
        ("nullable orderId", Record("shop", """{"name":"orderId","type":["null","string"]}""", Product, DoublePrice), false),
        ("nullable customerId, though order.avsc defaults it", Record("shop", Id, Product, DoublePrice, """{"name":"customerId","type":["null","string"],"default":null}"""), false),
        ("price as string", Record("shop", Id, Product, """{"name":"price","type":"string"}"""), false),
        ("quantity as long", Record("shop", Id, Product, DoublePrice, """{"name":"quantity","type":"long"}"""), false),
        ("channel as int", Record("shop", Id, Product, FloatPrice, """{"name":"channel","type":"int"}"""), false),
        ("currency as an enum", Record("shop", Id, Product, DoublePrice, """{"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}}"""), false),
        ("no product", Record("shop", Id, FloatPrice), false),
        ("the price renamed, with a writer alias", Record("shop", Id, Product, """{"name":"cost","type":"double","aliases":["price"]}"""), false),
        ("another record name", Record("shop", Id, Product, FloatPrice).Replace("\"Order\"", "\"Purchase\"", StringComparison.Ordinal), false),
        ("another record name with an alias to Order", Record("shop", Id, Product, FloatPrice).Replace("\"name\":\"Order\"", "\"name\":\"LegacyOrder\",\"aliases\":[\"Order\"]", StringComparison.Ordinal), false),
        ("a nullable top-level union", $"[\"null\",{Record("shop", Id, Product, FloatPrice)}]", false),
        ("a string", "\"string\"", false),
    ];

    [Fact]
    public async Task EveryWriterVariant_IsReadExactlyWhenTheRegistryCallsItCompatible()
    {
        Assert.True(Variants.Length >= 25 && Variants.Count(v => !v.Compatible) >= 8, "the table needs at least 25 variants, incompatible ones among them");
        var subject = StackFixture.Unique("resolution");
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = "NONE" });
        var registered = new List<(int Id, int Version)>();
        foreach (var variant in Variants)
        {
            await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = variant.Schema });
            var found = await SendAsync(HttpMethod.Post, $"subjects/{subject}", new { schema = variant.Schema });
            registered.Add((found.GetProperty("id").GetInt32(), found.GetProperty("version").GetInt32()));
        }

        // Judged one version at a time: can order.avsc (the candidate) read data written with it?
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = "BACKWARD" });
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        var decoder = new OrderDecoder(registry);
        var failures = new List<string>();
        for (var i = 0; i < Variants.Length; i++)
        {
            var (name, schema, compatible) = Variants[i];
            var verdict = (await SendAsync(HttpMethod.Post, $"compatibility/subjects/{subject}/versions/{registered[i].Version}", new { schema = OrderSchemas.Current }))
                .GetProperty("is_compatible").GetBoolean();
            var (bytes, expected) = Encode(schema, registered[i].Id, i);

            Order? decoded = null;
            string? poison = null;
            try
            {
                decoded = await decoder.DecodeAsync(bytes);
            }
            catch (PoisonRecordException e)
            {
                poison = e.Message;
            }

            if (verdict != compatible)
            {
                failures.Add($"{name}: the registry says compatible={verdict}, the specification {compatible}");
            }

            if ((decoded is not null) != verdict)
            {
                failures.Add($"{name}: the registry says compatible={verdict}, the decoder {(decoded is null ? $"refused it: {poison}" : "read it")}");
            }
            else if (decoded is not null && !Same(expected, decoded))
            {
                failures.Add($"{name}: decoded {Describe(decoded)}, expected {Describe(expected)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static string Record(string? space, params string[] fields) =>
        $$"""{"type":"record","name":"Order"{{(space is null ? "" : $",\"namespace\":\"{space}\"")}},"fields":[{{string.Join(",", fields)}}]}""";

    /// <summary>A value of the writer schema in the wire format, and the order order.avsc should read from it.</summary>
    private static (byte[] Bytes, Order Expected) Encode(string writerJson, int schemaId, int seed)
    {
        var writer = global::Avro.Schema.Parse(writerJson);
        var expected = new Order { OrderId = $"o-{seed}", Product = "kettle", Price = 12.5 + seed };
        var datum = Datum(writer, expected);
        using var stream = new MemoryStream();
        Span<byte> header = stackalloc byte[5];
        header[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], schemaId);
        stream.Write(header);
        new GenericDatumWriter<object>(writer).Write(datum, new BinaryEncoder(stream));
        return (stream.ToArray(), expected);
    }

    /// <summary>The writer's datum for an order: its fields from the order where the writer has them, made-up values for the rest.</summary>
    private static object Datum(global::Avro.Schema schema, Order order) => schema switch
    {
        global::Avro.UnionSchema union => Datum(union.Schemas.FirstOrDefault(s => s is global::Avro.RecordSchema) ?? union.Schemas[0], order),
        global::Avro.RecordSchema record => Record(record, order),
        _ => "not an order",
    };

    private static GenericRecord Record(global::Avro.RecordSchema schema, Order order)
    {
        var record = new GenericRecord(schema);
        foreach (var field in schema.Fields)
        {
            var value = field.Name switch
            {
                "orderId" => Value(field.Schema, order.OrderId),
                "product" => Value(field.Schema, order.Product),
                "price" => Value(field.Schema, order.Price),
                "quantity" => Value(field.Schema, order.Quantity = 3),
                "channel" => Value(field.Schema, order.Channel = "store"),
                "customerId" => Value(field.Schema, order.CustomerId = "c-0042"),
                "currency" => Value(field.Schema, order.Currency = "USD"),
                "createdAt" => Value(field.Schema, 1_700_000_000L),
                _ => Filler(field.Schema),
            };
            record.Add(field.Name, value);

            // What order.avsc reads is what the writer's type could hold.
            switch (field.Name)
            {
                case "price" when value is int or long or float or double:
                    order.Price = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "createdAt":
                    order.CreatedAt = DateTime.UnixEpoch.AddMilliseconds(1_700_000_000L);
                    break;
            }
        }

        return record;
    }

    /// <summary>The value in the writer's type (for a union, its first branch that can hold it).</summary>
    private static object? Value(global::Avro.Schema schema, object value) => schema switch
    {
        global::Avro.UnionSchema union => Value(union.Schemas.First(s => s.Tag != global::Avro.Schema.Type.Null), value),
        // A writer that types a text field as a number (incompatible anyway) gets a number.
        global::Avro.PrimitiveSchema { Tag: not (global::Avro.Schema.Type.String or global::Avro.Schema.Type.Bytes) } when value is string => Filler(schema),
        _ => schema.Tag switch
        {
            global::Avro.Schema.Type.String => value.ToString(),
            global::Avro.Schema.Type.Bytes => Encoding.UTF8.GetBytes(value.ToString()!),
            global::Avro.Schema.Type.Int => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture),
            global::Avro.Schema.Type.Long => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
            global::Avro.Schema.Type.Float => Convert.ToSingle(value, System.Globalization.CultureInfo.InvariantCulture),
            global::Avro.Schema.Type.Double => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
            global::Avro.Schema.Type.Logical => DateTime.UnixEpoch.AddMilliseconds(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
            global::Avro.Schema.Type.Enumeration => new GenericEnum((global::Avro.EnumSchema)schema, ((global::Avro.EnumSchema)schema).Symbols[0]),
            _ => Filler(schema),
        },
    };

    private static object? Filler(global::Avro.Schema schema) => schema switch
    {
        global::Avro.UnionSchema union => Filler(union.Schemas[^1]),
        global::Avro.RecordSchema record => record.Fields.Aggregate(new GenericRecord(record), (r, f) =>
        {
            r.Add(f.Name, Filler(f.Schema));
            return r;
        }),
        global::Avro.ArraySchema => new object[] { "a", "b" },
        global::Avro.MapSchema => new Dictionary<string, object> { ["k"] = 1 },
        global::Avro.EnumSchema e => new GenericEnum(e, e.Symbols[^1]),
        global::Avro.FixedSchema f => new GenericFixed(f, new byte[f.Size]),
        _ => schema.Tag switch
        {
            global::Avro.Schema.Type.String => "filler",
            global::Avro.Schema.Type.Int => 7,
            global::Avro.Schema.Type.Long => 7L,
            global::Avro.Schema.Type.Double => 7.0,
            global::Avro.Schema.Type.Float => 7f,
            global::Avro.Schema.Type.Bytes => new byte[] { 1, 2 },
            global::Avro.Schema.Type.Boolean => true,
            _ => null,
        },
    };

    private static bool Same(Order a, Order b) =>
        (a.OrderId, a.Product, a.Price, a.CustomerId, a.Quantity, a.Currency, a.CreatedAt, a.Channel)
        == (b.OrderId, b.Product, b.Price, b.CustomerId, b.Quantity, b.Currency, b.CreatedAt, b.Channel);

    private static string Describe(Order o) => $"({o.OrderId}, {o.Product}, {o.Price}, {o.CustomerId}, {o.Quantity}, {o.Currency}, {o.CreatedAt:O}, {o.Channel})";

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaType);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
