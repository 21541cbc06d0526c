using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests.Faults;

/// <summary>What the orders topic holds, read independently of the processor (Confluent's own Avro deserializer).</summary>
/// <param name="Records">Every record in the topic.</param>
/// <param name="ValidCount">Orders that decode and pass validation: the ones the averages must count.</param>
/// <param name="Currencies">Per currency: those orders' count, and their prices and order values (price x quantity) summed exactly, as the processor sums them.</param>
/// <param name="Rejected">Positions of the records that must be dead-lettered (undecodable or invalid).</param>
public sealed record TopicContents(
    long Records, long ValidCount, IReadOnlyDictionary<string, (long Count, decimal PriceSum, decimal ValueSum)> Currencies, IReadOnlySet<(int Partition, long Offset)> Rejected);

/// <summary>One record of the topic and what must become of it: its price and order value counted in its currency, or a dead letter.</summary>
public sealed record RecordFate(int Partition, long Offset, decimal? ValidPrice, string Currency = "EUR", int Quantity = 1)
{
    public static TopicContents Contents(IReadOnlyCollection<RecordFate> records) => new(
        records.Count,
        records.Count(r => r.ValidPrice is not null),
        records.Where(r => r.ValidPrice is not null)
            .GroupBy(r => r.Currency)
            .ToDictionary(g => g.Key, g => ((long)g.Count(), g.Sum(r => r.ValidPrice!.Value), g.Sum(r => r.ValidPrice!.Value * r.Quantity))),
        records.Where(r => r.ValidPrice is null).Select(r => (r.Partition, r.Offset)).ToHashSet());
}

/// <summary>Reads a topic and checks the processor's invariants against it.</summary>
public static class Oracle
{
    public static TopicContents Read(string bootstrapServers, string registryUrl, string topic) =>
        RecordFate.Contents(Fates(bootstrapServers, registryUrl, topic));

    /// <summary>What the topic holds, read with these client and registry settings (credentials and all).</summary>
    public static TopicContents Read(ClientConfig client, SchemaRegistryConfig registry, string topic) =>
        RecordFate.Contents(Fates(client, registry, topic));

    public static List<RecordFate> Fates(string bootstrapServers, string registryUrl, string topic) =>
        Fates(new ClientConfig { BootstrapServers = bootstrapServers }, new SchemaRegistryConfig { Url = registryUrl }, topic);

    public static List<RecordFate> Fates(ClientConfig client, SchemaRegistryConfig registryConfig, string topic)
    {
        using var registry = new CachedSchemaRegistryClient(registryConfig);
        var deserializer = new AvroDeserializer<Order>(registry).AsSyncOverAsync();
        var fates = new List<RecordFate>();
        foreach (var record in ReadAll(client, topic))
        {
            Order? order;
            try
            {
                order = deserializer.Deserialize(record.Message.Value, record.Message.Value is null, new SerializationContext(MessageComponentType.Value, topic));
            }
            catch (Exception)
            {
                order = null;
            }

            var valid = order is not null && OrderValidator.Validate(order) is null;
            fates.Add(valid
                ? new RecordFate(record.Partition.Value, record.Offset.Value, (decimal)order!.Price, order.Currency, order.Quantity)
                : new RecordFate(record.Partition.Value, record.Offset.Value, null));
        }

        return fates;
    }

    /// <summary>Each partition's low and high watermarks, for a failure's message.</summary>
    private static IEnumerable<string> DeadLetterEnds(ClientConfig client, string topic)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(client)) { GroupId = StackFixture.Unique("oracle-ends") };
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(client))).Build();
        foreach (var partition in admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions.OrderBy(p => p.PartitionId))
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition.PartitionId), TimeSpan.FromSeconds(10));
            yield return $"{partition.PartitionId}: {marks.Low.Value}-{marks.High.Value} (leader {partition.Leader})";
        }
    }

    /// <summary>Every record of every partition, from the start to the end as it is now, joining no group.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string bootstrapServers, string topic) =>
        ReadAll(new ClientConfig { BootstrapServers = bootstrapServers }, topic);

    /// <inheritdoc cref="ReadAll(string, string)"/>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(ClientConfig client, string topic)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(client)) { GroupId = StackFixture.Unique("oracle"), EnablePartitionEof = true, EnableAutoCommit = false };
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(client))).Build();
        var partitions = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)));
        var open = partitions.Where(p => ends[p].High > ends[p].Low).ToHashSet();
        consumer.Assign(open.Select(p => new TopicPartitionOffset(p, ends[p].Low)));
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (open.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"reading {topic} did not finish");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                records.Add(result);
            }

            if (result.IsPartitionEOF || result.Offset.Value + 1 >= ends[result.TopicPartition].High.Value)
            {
                open.Remove(result.TopicPartition);
            }
        }

        return records;
    }

    /// <summary>
    /// The fault suite's invariants, from <c>orders stats</c> and the dead-letter topic: every record
    /// is counted or dead-lettered exactly once (nothing lost, nothing twice, nothing both), and each
    /// currency's count, sums and means are exactly those of its valid orders.
    /// </summary>
    public static Task<JsonElement> AssertExactAsync(FaultStack stack, string topic, string group, TopicContents expected, long lost = 0) =>
        AssertExactAsync(stack.Endpoints(topic), new ClientConfig { BootstrapServers = stack.Kafka.BootstrapServers }, topic, group, expected, lost);

    /// <inheritdoc cref="AssertExactAsync(FaultStack, string, string, TopicContents, long)"/>
    /// <param name="endpoints">The flags that point <c>orders</c> at the cluster, the topic included.</param>
    public static async Task<JsonElement> AssertExactAsync(string[] endpoints, ClientConfig client, string topic, string group, TopicContents expected, long lost = 0)
    {
        var stats = await OrdersCommand.RunJsonAsync(["stats", .. endpoints, "--group", group]);

        // Lost == 0, and the processors caught up with the whole topic.
        Assert.Equal(lost, stats.GetProperty("skippedByRetention").GetInt64());
        Assert.True(stats.GetProperty("partitionsWithoutCheckpoint").GetInt32() == 0, $"partitions without a checkpoint:\n{stats.GetProperty("partitions")}");
        Assert.All(stats.GetProperty("partitions").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("lag").GetInt64()));

        // Counted exactly once, per currency: the count and the exact sums are the valid orders', so the means are too.
        Assert.Equal(expected.ValidCount, stats.GetProperty("count").GetInt64());
        AssertCurrencies(expected, stats);

        // Dead-lettered exactly once: the state's decisions are the rejected records, and the dead-letter
        // topic holds each of them (duplicates of a record are allowed, but only of a rejected one).
        Assert.Equal(expected.Rejected.Count, stats.GetProperty("deadLettered").GetProperty("total").GetInt64());
        var origins = ReadAll(client, Topics.DeadLetterFor(topic))
            .Select(l => Origin(l.Message.Headers))
            .Where(o => o.Group == group)
            .Select(o => (o.Partition, o.Offset))
            .ToHashSet();
        Assert.True(
            origins.SetEquals(expected.Rejected),
            $"{origins.Except(expected.Rejected).Count()} dead letters of valid orders, {expected.Rejected.Except(origins).Count()} rejected records without one " +
            $"(without: {string.Join(", ", expected.Rejected.Except(origins).Order().Take(10).Select(r => $"{topic}[{r.Partition}]@{r.Offset}"))}; " +
            $"the dead-letter topic's partitions: {string.Join(", ", DeadLetterEnds(client, Topics.DeadLetterFor(topic)))})");
        Assert.Equal(expected.Records, expected.ValidCount + stats.GetProperty("deadLettered").GetProperty("total").GetInt64());
        return stats;
    }

    /// <summary>Every currency's count, exact price and order-value sums, and means (to 1e-9), as the topic holds them; no other currency.</summary>
    public static void AssertCurrencies(TopicContents expected, JsonElement stats)
    {
        var currencies = stats.GetProperty("currencies");
        Assert.Equal(expected.Currencies.Keys.Order(), currencies.EnumerateObject().Select(c => c.Name).Order());
        foreach (var (currency, (count, priceSum, valueSum)) in expected.Currencies)
        {
            var actual = currencies.GetProperty(currency);
            Assert.Equal(count, actual.GetProperty("count").GetInt64());
            AssertMeasure(currency, "price", actual.GetProperty("price"), priceSum, count);
            AssertMeasure(currency, "orderValue", actual.GetProperty("orderValue"), valueSum, count);
        }
    }

    private static void AssertMeasure(string currency, string measure, JsonElement actual, decimal sum, long count)
    {
        Assert.Equal(sum, decimal.Parse(actual.GetProperty("sum").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        var mean = (double)(sum / count);
        Assert.True(Math.Abs(actual.GetProperty("mean").GetDouble() - mean) <= 1e-9 * Math.Abs(mean), $"{currency} {measure} mean {actual.GetProperty("mean").GetDouble()} vs {mean}");
    }

    /// <summary>
    /// After a clean stop, the group's committed offsets (what lag tools read) are exactly where the
    /// checkpoints end: commits follow checkpoints, and the last close commits the last ones.
    /// </summary>
    public static void AssertCommitsFollowCheckpoints(FaultStack stack, string group, JsonElement stats)
    {
        var topic = stats.GetProperty("topic").GetString()!;
        var checkpointed = stats.GetProperty("partitions").EnumerateArray()
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("nextOffset").GetInt64());
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = stack.Kafka.BootstrapServers, GroupId = group }).Build();
        var committed = consumer.Committed(checkpointed.Keys.Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10));
        Assert.All(committed, c => Assert.Equal(checkpointed[c.Partition.Value], c.Offset.Value));
    }

    private static (string Group, int Partition, long Offset) Origin(Headers headers)
    {
        string Text(string key) => Encoding.UTF8.GetString(headers.GetLastBytes(key));
        return (Text(DeadLetterHeaders.ConsumerGroup), int.Parse(Text(DeadLetterHeaders.OriginalPartition), System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(Text(DeadLetterHeaders.OriginalOffset), System.Globalization.CultureInfo.InvariantCulture));
    }
}
