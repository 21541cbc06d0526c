using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>Confluent's Avro serializer and deserializer, through Kafka on the local stack and our registry.</summary>
[Collection(StackCollection.Name)]
public sealed class AvroSerdeRoundTripTests(StackFixture fixture)
{
    private static readonly RecordSchema OrderSchema = (RecordSchema)global::Avro.Schema.Parse(
        """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"double"}]}""");

    [Fact]
    public async Task ConfluentAvroSerdes_RoundTripRecordsThroughTheStack()
    {
        var topic = fixture.CreateTopic("serde");
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using (var producer = new ProducerBuilder<string, GenericRecord>(fixture.ProducerConfig())
            .SetValueSerializer(new AvroSerializer<GenericRecord>(registry))
            .Build())
        {
            for (var i = 0; i < 20; i++)
            {
                var record = new GenericRecord(OrderSchema);
                record.Add("orderId", $"o-{i}");
                record.Add("product", "widget");
                record.Add("price", i + 0.5);
                await producer.ProduceAsync(topic, new Message<string, GenericRecord> { Key = $"o-{i}", Value = record }, TestContext.Current.CancellationToken);
            }
        }

        using var consumer = new ConsumerBuilder<string, GenericRecord>(fixture.ConsumerConfig(StackFixture.Unique("serde")))
            .SetValueDeserializer(new AvroDeserializer<GenericRecord>(registry).AsSyncOverAsync())
            .Build();
        consumer.Subscribe(topic);
        var results = KafkaTestClient.ConsumeAll(consumer, 20, TimeSpan.FromSeconds(30));
        consumer.Close();

        Assert.Equal(20, results.Count);
        var prices = results.ToDictionary(r => (string)r.Message.Value["orderId"], r => (double)r.Message.Value["price"]);
        Assert.Equal(Enumerable.Range(0, 20).Sum(i => i + 0.5), prices.Values.Sum());
        Assert.Equal([1], await registry.GetSubjectVersionsAsync($"{topic}-value"));
        Assert.All(results, r => Assert.Equal(0, r.Message.Value.Schema.Fullname.CompareTo("shop.Order")));
    }

    [Fact]
    public async Task EarliestSchemaRecords_AreReadAsTheCurrentOrderContract()
    {
        var topic = fixture.CreateTopic("earliest");
        var earliest = (RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Earliest);
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using (var producer = new ProducerBuilder<string, GenericRecord>(fixture.ProducerConfig())
            .SetValueSerializer(new AvroSerializer<GenericRecord>(registry))
            .Build())
        {
            var record = new GenericRecord(earliest);
            record.Add("orderId", "old-1");
            record.Add("product", "teapot");
            record.Add("price", 12.25f);
            await producer.ProduceAsync(topic, new Message<string, GenericRecord> { Key = "old-1", Value = record }, TestContext.Current.CancellationToken);
        }

        // The current schema must register on top of the earliest under the default BACKWARD level.
        await registry.RegisterSchemaAsync($"{topic}-value", new Confluent.SchemaRegistry.Schema(OrderSchemas.Current, SchemaType.Avro));
        using (var producer = new ProducerBuilder<string, Order>(fixture.ProducerConfig())
            .SetValueSerializer(new AvroSerializer<Order>(registry))
            .Build())
        {
            var order = new Order { OrderId = "new-1", Product = "kettle", Price = 40.5, Quantity = 2, Channel = "web" };
            await producer.ProduceAsync(topic, new Message<string, Order> { Key = "new-1", Value = order }, TestContext.Current.CancellationToken);
        }

        using var consumer = new ConsumerBuilder<string, Order>(fixture.ConsumerConfig(StackFixture.Unique("earliest")))
            .SetValueDeserializer(new AvroDeserializer<Order>(registry).AsSyncOverAsync())
            .Build();
        consumer.Subscribe(topic);
        var orders = KafkaTestClient.ConsumeAll(consumer, 2, TimeSpan.FromSeconds(30)).ToDictionary(r => r.Message.Key, r => r.Message.Value);
        consumer.Close();

        Assert.Equal(("teapot", 12.25, 1, "EUR"), (orders["old-1"].Product, orders["old-1"].Price, orders["old-1"].Quantity, orders["old-1"].Currency));
        Assert.Equal(("kettle", 40.5, 2, "web"), (orders["new-1"].Product, orders["new-1"].Price, orders["new-1"].Quantity, orders["new-1"].Channel));
        Assert.Equal([1, 2], await registry.GetSubjectVersionsAsync($"{topic}-value"));
    }
}
