using System.Net;
using System.Reflection;
using Avro.IO;
using Avro.Specific;
using Confluent.SchemaRegistry;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor;

namespace Orders.Decoding.UnitTests;

/// <summary>The decoder's failure classes, with the registry faked: the one honest seam here.</summary>
public sealed class OrderDecoderTests
{
    private const int KnownId = 7;

    [Theory]
    [InlineData(new byte[0], "fewer than the 5-byte")]
    [InlineData(new byte[] { 0, 0, 0 }, "fewer than the 5-byte")]
    [InlineData(new byte[] { 1, 0, 0, 0, 7, 2 }, "magic byte 0x01")]
    [InlineData(new byte[] { 0, 0, 0, 0, 7, 0xff, 0xff, 0xff }, "Avro decode error")]
    public async Task Decode_MalformedBytes_IsPoison(byte[] value, string expected)
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));

        var error = await Assert.ThrowsAsync<PoisonRecordException>(() => decoder.DecodeAsync(value).AsTask());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decode_NullValue_IsPoison() =>
        await Assert.ThrowsAsync<PoisonRecordException>(() => new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current)).DecodeAsync(null).AsTask());

    [Fact]
    public async Task Decode_TrailingBytes_IsPoison()
    {
        var bytes = Encode(new Order { OrderId = "o", Product = "p", Price = 1 }).Concat(new byte[] { 0x00, 0x01 }).ToArray();

        var error = await Assert.ThrowsAsync<PoisonRecordException>(() => new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current)).DecodeAsync(bytes).AsTask());

        Assert.Contains("2 bytes left over", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decode_UnknownSchemaId_IsPoison()
    {
        var decoder = new OrderDecoder(FakeRegistry.Throwing(new SchemaRegistryException("Schema not found", HttpStatusCode.NotFound, 40403)));

        await Assert.ThrowsAsync<PoisonRecordException>(() => decoder.DecodeAsync(Encode(new Order { OrderId = "o", Product = "p", Price = 1 })).AsTask());
    }

    public static TheoryData<Exception> Outages() => new()
    {
        new HttpRequestException("Connection refused"),
        new TaskCanceledException("timed out"),
        new SchemaRegistryException("Internal Server Error", HttpStatusCode.InternalServerError, 50001),
        new SchemaRegistryException("Not Found", HttpStatusCode.NotFound, 404),
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task Decode_RegistryFailure_IsNotPoison(Exception outage)
    {
        var decoder = new OrderDecoder(FakeRegistry.Throwing(outage));

        await Assert.ThrowsAsync<RegistryUnavailableException>(() => decoder.DecodeAsync(Encode(new Order { OrderId = "o", Product = "p", Price = 1 })).AsTask());
    }

    [Fact]
    public async Task Decode_WriterSchemaAsked_OnlyOncePerId()
    {
        var registry = FakeRegistry.Returning(OrderSchemas.Current);
        var decoder = new OrderDecoder(registry);
        var bytes = Encode(new Order { OrderId = "o-1", Product = "mug", Price = 4.5, Quantity = 2 });

        var first = await decoder.DecodeAsync(bytes);
        var second = await decoder.DecodeAsync(bytes);

        Assert.Equal(("o-1", "mug", 4.5, 2), (first.OrderId, first.Product, first.Price, first.Quantity));
        Assert.Equal(first.OrderId, second.OrderId);
        Assert.Equal(1, ((FakeRegistry)(object)registry).Calls);
    }

    [Theory]
    [InlineData("shop")]
    [InlineData(null)]
    public async Task Decode_EarliestSchemaInAnyNamespace_IsReadWithPriceAsDoubleAndDefaults(string? space)
    {
        var schema = $$"""{"type":"record","name":"Order"{{(space is null ? "" : $",\"namespace\":\"{space}\"")}},"fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""";
        var decoder = new OrderDecoder(FakeRegistry.Returning(schema));
        byte[] value = [0, 0, 0, 0, KnownId, 0x06, (byte)'o', (byte)'-', (byte)'1', 0x06, (byte)'m', (byte)'u', (byte)'g', 0x00, 0x00, 0x48, 0x41];

        var order = await decoder.DecodeAsync(value);

        Assert.Equal(("o-1", "mug", 12.5, "", 1, "EUR", DateTime.UnixEpoch, "unknown"), (order.OrderId, order.Product, order.Price, order.CustomerId, order.Quantity, order.Currency, order.CreatedAt, order.Channel));
    }

    [Fact]
    public async Task Decode_IncompatibleWriterSchema_IsPoison_AndAskedOnlyOnce()
    {
        var registry = FakeRegistry.Returning("""{"type":"record","name":"Order","fields":[{"name":"orderId","type":"string"},{"name":"price","type":["null","double"]}]}""");
        var decoder = new OrderDecoder(registry);
        byte[] value = [0, 0, 0, 0, KnownId, 0x00, 0x00];

        var first = await Assert.ThrowsAsync<PoisonRecordException>(() => decoder.DecodeAsync(value).AsTask());
        var second = await Assert.ThrowsAsync<PoisonRecordException>(() => decoder.DecodeAsync(value).AsTask());

        Assert.Contains("cannot be resolved against order.avsc", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(1, ((FakeRegistry)(object)registry).Calls);
    }

    [Fact]
    public async Task TryDecode_DecodesOnlyOnceTheWriterSchemaIsResolved()
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));
        var bytes = Encode(new Order { OrderId = "o-9", Product = "kettle", Price = 20 });

        var before = decoder.TryDecode(bytes, out _);
        await decoder.ResolveAsync(KnownId);
        var after = decoder.TryDecode(bytes, out var order);

        Assert.False(before);
        Assert.True(after);
        Assert.Equal("o-9", order!.OrderId);
    }

    [Fact]
    public async Task Decode_CachedPlan_CompletesSynchronously()
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));
        var bytes = Encode(new Order { OrderId = "o-1", Product = "mug", Price = 4.5 });
        await decoder.DecodeAsync(bytes);

        var again = decoder.DecodeAsync(bytes);

        Assert.True(again.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task DecodeAsync_ARecordsValue_TheOrderReadsItsIdCustomerAndChannelFromIt_WhenFirstAskedFor()
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));
        var value = Encode(new Order { OrderId = "o-1", Product = "mug", Price = 2.5, CustomerId = "c-1", Channel = "web" });

        var order = await decoder.DecodeAsync(value);
        Overwrite(value, "o-1", "o-9");
        Overwrite(value, "c-1", "c-9");

        Assert.Equal(("o-9", "c-9", "web", "mug"), (order.OrderId, order.CustomerId, order.Channel, order.Product));
    }

    [Fact]
    public async Task DecodeAsync_AValueHeldAnywhere_MakesEveryStringAtOnce()
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));
        var value = Encode(new Order { OrderId = "o-1", Product = "mug", Price = 2.5, CustomerId = "c-1", Channel = "web" });

        var order = await decoder.DecodeAsync(new ReadOnlyMemory<byte>(value));
        Assert.True(decoder.TryDecode(value.AsSpan(), out var tried));
        Overwrite(value, "o-1", "o-9");
        Overwrite(value, "c-1", "c-9");

        Assert.Equal(("o-1", "c-1"), (order.OrderId, order.CustomerId));
        Assert.Equal(("o-1", "c-1"), (tried.OrderId, tried.CustomerId));
    }

    [Fact]
    public async Task DecodeAsync_TextReadLater_IsWhatApacheAvroReads_NonAsciiIncluded()
    {
        var decoder = new OrderDecoder(FakeRegistry.Returning(OrderSchemas.Current));
        var sent = new Order { OrderId = "ordre-été-№1", Product = "thé", Price = 2.5, CustomerId = "client-ß", Channel = "", Currency = "EUR" };
        var value = Encode(sent);

        var order = await decoder.DecodeAsync(value);
        Assert.True(decoder.TryDecode(value, out var tried));

        var reader = new SpecificDatumReader<Order>(Order._SCHEMA, Order._SCHEMA);
        var apache = reader.Read(new Order(), new BinaryDecoder(new MemoryStream(value, OrderDecoder.HeaderLength, value.Length - OrderDecoder.HeaderLength)));
        foreach (var decoded in new[] { order, tried })
        {
            Assert.Equal((apache.OrderId, apache.CustomerId, apache.Channel, apache.Product), (decoded.OrderId, decoded.CustomerId, decoded.Channel, decoded.Product));
        }

        Assert.Null(OrderValidator.Validate(order));
    }

    [Fact]
    public async Task ResolveLatestAsync_ResolvesTheSubjectsNewestSchema_SoThatItsRecordsDecodeWithoutAskingTheRegistry()
    {
        var registry = FakeRegistry.WithLatest(
            subject => Task.FromResult(new RegisteredSchema(subject, 3, KnownId, OrderSchemas.Current, SchemaType.Avro, [])),
            _ => throw new InvalidOperationException("asked for a schema by id"));
        var decoder = new OrderDecoder(registry);

        var (schemaId, error) = await decoder.ResolveLatestAsync(Topics.ValueSubjectFor("orders"));

        Assert.Equal((KnownId, null), (schemaId, error));
        Assert.True(decoder.TryDecode(Encode(new Order { OrderId = "o-1", Product = "mug", Price = 2.5 }), out var order));
        Assert.Equal(("o-1", "mug", 2.5), (order.OrderId, order.Product, order.Price));
        Assert.Equal(0, FakeRegistry.CallsOf(registry));
    }

    [Fact]
    public async Task ResolveLatestAsync_RegistryUnreachable_SaysWhy_AndRecordsResolveTheirSchemaAsTheyCome()
    {
        var registry = FakeRegistry.WithLatest(
            _ => Task.FromException<RegisteredSchema>(new HttpRequestException("Connection refused")),
            _ => Task.FromResult(new Schema(OrderSchemas.Current, SchemaType.Avro)));
        var decoder = new OrderDecoder(registry);

        var (schemaId, error) = await decoder.ResolveLatestAsync("orders-value");
        var order = await decoder.DecodeAsync(Encode(new Order { OrderId = "o-2", Product = "kettle", Price = 30 }));

        Assert.Null(schemaId);
        Assert.Contains("Connection refused", error, StringComparison.Ordinal);
        Assert.Equal("o-2", order.OrderId);
        Assert.Equal(1, FakeRegistry.CallsOf(registry));
    }

    /// <summary>Overwrites the one place <paramref name="text"/> lies in <paramref name="value"/> (an Avro string's UTF-8) with a text of its length.</summary>
    private static void Overwrite(byte[] value, string text, string with)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var at = value.AsSpan().IndexOf(bytes);
        Assert.True(at >= 0 && value.AsSpan(at + 1).IndexOf(bytes) < 0, $"'{text}' is once in the value");
        System.Text.Encoding.UTF8.GetBytes(with).CopyTo(value, at);
    }

    private static byte[] Encode(Order order)
    {
        using var stream = new MemoryStream();
        stream.Write([0, 0, 0, 0, KnownId]);
        new SpecificDatumWriter<Order>(Order._SCHEMA).Write(order, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    /// <summary>An <see cref="ISchemaRegistryClient"/> that answers GetSchemaAsync and, when given, GetLatestSchemaAsync.</summary>
    public class FakeRegistry : DispatchProxy
    {
        private Func<int, Task<Schema>> _getSchema = _ => throw new NotSupportedException();
        private Func<string, Task<RegisteredSchema>>? _getLatest;

        public int Calls { get; private set; }

        public static ISchemaRegistryClient Returning(string schema) => Create(_ => Task.FromResult(new Schema(schema, SchemaType.Avro)));

        public static ISchemaRegistryClient Throwing(Exception error) => Create(_ => Task.FromException<Schema>(error));

        /// <summary>GetLatestSchemaAsync answered by <paramref name="getLatest"/>; GetSchemaAsync by <paramref name="getSchema"/>.</summary>
        public static ISchemaRegistryClient WithLatest(Func<string, Task<RegisteredSchema>> getLatest, Func<int, Task<Schema>> getSchema)
        {
            var proxy = Create(getSchema);
            ((FakeRegistry)(object)proxy)._getLatest = getLatest;
            return proxy;
        }

        public static int CallsOf(ISchemaRegistryClient registry) => ((FakeRegistry)(object)registry).Calls;

        private static ISchemaRegistryClient Create(Func<int, Task<Schema>> getSchema)
        {
            var proxy = DispatchProxy.Create<ISchemaRegistryClient, FakeRegistry>();
            ((FakeRegistry)(object)proxy)._getSchema = getSchema;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(ISchemaRegistryClient.GetLatestSchemaAsync) && _getLatest is not null && args is [string subject, ..])
            {
                return _getLatest(subject);
            }

            if (targetMethod?.Name == nameof(ISchemaRegistryClient.GetSchemaAsync) && args is [int id, ..])
            {
                Calls++;
                return _getSchema(id);
            }

            throw new NotSupportedException($"{targetMethod?.Name} is not faked");
        }
    }
}
