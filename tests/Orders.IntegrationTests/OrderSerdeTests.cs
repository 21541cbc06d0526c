using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.Decoding;
using Orders.IntegrationTests.Infrastructure;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.IntegrationTests;

/// <summary>Our lean serializer and decoder against Confluent's Avro serdes, through the stack's registry and Kafka.</summary>
[Collection(StackCollection.Name)]
public sealed class OrderSerdeTests(StackFixture fixture)
{
    [Fact]
    public async Task OrderSerializer_WritesTheSameBytesAsConfluentsAvroSerializer()
    {
        var topic = StackFixture.Unique("serde-bytes");
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        var confluent = new AvroSerializer<Order>(registry);
        var ours = new OrderSerializer(registry);
        var context = new SerializationContext(MessageComponentType.Value, topic);

        foreach (var order in Orders(200))
        {
            var expected = await confluent.SerializeAsync(order, context);

            Assert.Equal(expected, ours.Serialize(order, context));
            Assert.Equal(expected, await ours.SerializeAsync(order, context));
        }

        Assert.Equal([1], await registry.GetSubjectVersionsAsync($"{topic}-value"));
    }

    [Fact]
    public async Task EachSideReadsTheOthersRecords_ThroughKafka()
    {
        var topic = fixture.CreateTopic("serde-cross");
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        var sent = Orders(40, wholeMilliseconds: true).ToList();
        using (var confluentProducer = new ProducerBuilder<string, Order>(fixture.ProducerConfig()).SetValueSerializer(new AvroSerializer<Order>(registry)).Build())
        using (var ourProducer = new ProducerBuilder<string, Order>(fixture.ProducerConfig()).SetValueSerializer((ISerializer<Order>)new OrderSerializer(registry)).Build())
        {
            for (var i = 0; i < sent.Count; i++)
            {
                var producer = i % 2 == 0 ? confluentProducer : ourProducer;
                await producer.ProduceAsync(topic, new Message<string, Order> { Key = sent[i].OrderId, Value = sent[i] }, TestContext.Current.CancellationToken);
            }
        }

        using var consumer = new ConsumerBuilder<string, byte[]>(fixture.ConsumerConfig(StackFixture.Unique("serde-cross"))).Build();
        consumer.Subscribe(topic);
        var records = KafkaTestClient.ConsumeAll(consumer, sent.Count, TimeSpan.FromSeconds(30));
        consumer.Close();

        var decoder = new OrderDecoder(registry);
        var confluentDeserializer = new AvroDeserializer<Order>(registry).AsSyncOverAsync();
        var expected = sent.ToDictionary(o => o.OrderId);
        Assert.Equal(sent.Count, records.Count);
        foreach (var record in records)
        {
            var ours = await decoder.DecodeAsync(record.Message.Value);
            var theirs = confluentDeserializer.Deserialize(record.Message.Value, isNull: false, new SerializationContext(MessageComponentType.Value, topic));
            Assert.Equivalent(expected[record.Message.Key], ours, strict: true);
            Assert.Equivalent(expected[record.Message.Key], theirs, strict: true);
        }
    }

    /// <param name="wholeMilliseconds">Whether timestamps stop at milliseconds, as the Avro type does (else Avro truncates them).</param>
    private static IEnumerable<Order> Orders(int count, bool wholeMilliseconds = false)
    {
        var generator = new OrderGenerator(new Random(11), TimeProvider.System, invalidRatio: 0.2);
        var start = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < count; i++)
        {
            var (order, _) = generator.Next();
            order.CreatedAt = start.AddMilliseconds(i * (wholeMilliseconds ? 1234 : 1234.5678));
            if (i % 10 == 0)
            {
                // Text beyond ASCII, and a price no float can hold.
                order.Product = $"thé-{i}-€-😀";
                order.Price = 1e300 / (i + 1);
            }

            yield return order;
        }
    }
}
