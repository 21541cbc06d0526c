"""Python's confluent-kafka (legacy Avro API, python3-avro) against the local stack.

produce BOOTSTRAP REGISTRY TOPIC COUNT SCHEMA_FILE: registers the value schema through the
registry and produces COUNT records; prints {"produced": n, "priceSum": s, "mean": m} as JSON.
produce-orders BOOTSTRAP REGISTRY TOPIC COUNT ORDER_AVSC: the same with full orders of order.avsc;
prints {"produced": n, "mean": m}.
consume BOOTSTRAP REGISTRY TOPIC COUNT GROUP: reads COUNT Avro records; prints them as JSON.
consume-string-keys ...: the same for records whose key is a plain UTF-8 string (as `orders produce` writes).
"""
import datetime
import json
import sys

from confluent_kafka import Consumer, avro
from confluent_kafka.avro import AvroConsumer, AvroProducer, CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer


def publish(bootstrap, registry, topic, schema_file, records):
    """Produces (key, value) pairs as Avro, registering the value schema; exits 1 on any failure."""
    with open(schema_file) as f:
        value_schema = avro.loads(f.read())
    producer = AvroProducer(
        {"bootstrap.servers": bootstrap, "schema.registry.url": registry, "enable.idempotence": True},
        default_key_schema=avro.loads('"string"'),
        default_value_schema=value_schema,
    )
    failures = []
    for key, value in records:
        producer.produce(topic=topic, key=key, value=value,
                         on_delivery=lambda err, msg: failures.append(str(err)) if err else None)
    remaining = producer.flush(30)
    if failures or remaining:
        print(json.dumps({"failures": failures, "undelivered": remaining}), file=sys.stderr)
        sys.exit(1)


def produce(bootstrap, registry, topic, count, schema_file):
    prices = [round(1.25 * (i + 1), 2) for i in range(count)]
    publish(bootstrap, registry, topic, schema_file,
            ((f"py-{i}", {"orderId": f"py-{i}", "product": "kettle", "price": price}) for i, price in enumerate(prices)))
    print(json.dumps({"produced": count, "priceSum": sum(prices), "mean": sum(prices) / count}))


def produce_orders(bootstrap, registry, topic, count, schema_file):
    prices = [round(3.0 + (i * 7.31) % 90, 2) for i in range(count)]

    def order(i, price):
        return {
            "orderId": f"00000000-0000-4000-8000-{i:012d}",
            "product": ["kettle", "teapot", "mug"][i % 3],
            "price": price,
            "customerId": f"py-customer-{i % 7}",
            "quantity": 1 + i % 4,
            "currency": "EUR",
            "createdAt": datetime.datetime(2026, 11, 25, 12, 0, i % 60, tzinfo=datetime.timezone.utc),
            "channel": "partner",
        }

    orders = [order(i, price) for i, price in enumerate(prices)]
    publish(bootstrap, registry, topic, schema_file, ((o["orderId"], o) for o in orders))
    print(json.dumps({"produced": count, "mean": sum(prices) / len(prices)}))


def poll(consumer, topic, count, decode):
    """Reads COUNT records (giving up after 30 s without one) and prints them as JSON."""
    consumer.subscribe([topic])
    records = []
    idle = 0
    while len(records) < count and idle < 60:
        msg = consumer.poll(0.5)
        if msg is None:
            idle += 1
            continue
        if msg.error():
            print(json.dumps({"error": str(msg.error())}), file=sys.stderr)
            continue
        records.append(decode(msg))
    consumer.close()
    print(json.dumps(records, default=str))


def consume(bootstrap, registry, topic, count, group):
    consumer = AvroConsumer({
        "bootstrap.servers": bootstrap,
        "schema.registry.url": registry,
        "group.id": group,
        "auto.offset.reset": "earliest",
    })
    poll(consumer, topic, count, lambda msg: {"key": msg.key(), "value": msg.value()})


def consume_string_keys(bootstrap, registry, topic, count, group):
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
    poll(consumer, topic, count,
         lambda msg: {"key": msg.key().decode("utf-8"), "value": serializer.decode_message(msg.value())})


if __name__ == "__main__":
    command, bootstrap, registry, topic, count, extra = sys.argv[1:7]
    if command == "produce":
        produce(bootstrap, registry, topic, int(count), extra)
    elif command == "produce-orders":
        produce_orders(bootstrap, registry, topic, int(count), extra)
    elif command == "consume-string-keys":
        consume_string_keys(bootstrap, registry, topic, int(count), extra)
    elif command == "consume":
        consume(bootstrap, registry, topic, int(count), extra)
    else:
        sys.exit(f"unknown command {command}")
