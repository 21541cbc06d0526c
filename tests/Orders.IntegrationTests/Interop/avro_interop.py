"""Python's confluent-kafka (legacy Avro API, python3-avro) against the local stack.

produce BOOTSTRAP REGISTRY TOPIC COUNT SCHEMA_FILE: registers the value schema through the
registry and produces COUNT records; prints {"produced": n, "priceSum": s, "mean": m} as JSON.
produce-orders BOOTSTRAP REGISTRY TOPIC COUNT ORDER_AVSC [SECONDS]: full orders of order.avsc in EUR, USD, GBP
and JPY with quantities 1 to 10, spread over about SECONDS when given; prints {"produced": n, "currencies": {"EUR": {"count", "priceSum",
"priceMean", "orderValueSum", "orderValueMean"}, ...}} computed exactly (decimal) by this client.
consume BOOTSTRAP REGISTRY TOPIC COUNT GROUP: reads COUNT Avro records; prints them as JSON.
consume-string-keys ...: the same for records whose key is a plain UTF-8 string (as `orders produce` writes).
"""
import datetime
import json
import sys
import time
from decimal import Decimal

from confluent_kafka import Consumer, avro
from confluent_kafka.avro import AvroConsumer, AvroProducer, CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer


def publish(bootstrap, registry, topic, schema_file, records, seconds=0.0):
    """Produces (key, value) pairs as Avro, registering the value schema, spread over about SECONDS
    (in 100 steps) when given; exits 1 on any failure."""
    with open(schema_file) as f:
        value_schema = avro.loads(f.read())
    producer = AvroProducer(
        {"bootstrap.servers": bootstrap, "schema.registry.url": registry, "enable.idempotence": True},
        default_key_schema=avro.loads('"string"'),
        default_value_schema=value_schema,
    )
    failures = []
    records = list(records)
    step = max(1, len(records) // 100)
    for i, (key, value) in enumerate(records):
        if seconds and i % step == 0 and i > 0:
            producer.poll(0)
            time.sleep(seconds / 100)
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


CURRENCIES = ["EUR", "USD", "GBP", "JPY"]


def produce_orders(bootstrap, registry, topic, count, schema_file, seconds=0.0):
    """Full orders in EUR, USD, GBP and JPY with quantities 1 to 10; the client's own exact
    per-currency figures: count, unit price sum and mean, order value (price x quantity) sum and mean."""

    def order(i):
        currency = CURRENCIES[(i * 7 + i // 5) % len(CURRENCIES)]
        # Yen have no minor unit: whole prices, larger numbers.
        price = float(150 + (i * 37) % 24000) if currency == "JPY" else round(3.0 + (i * 7.31) % 90, 2)
        return {
            "orderId": f"00000000-0000-4000-8000-{i:012d}",
            "product": ["kettle", "teapot", "mug"][i % 3],
            "price": price,
            "customerId": f"py-customer-{i % 7}",
            "quantity": 1 + (i * 3) % 10,
            "currency": currency,
            "createdAt": datetime.datetime(2026, 11, 25, 12, i % 10, i % 60, tzinfo=datetime.timezone.utc),
            "channel": "partner",
        }

    orders = [order(i) for i in range(count)]
    publish(bootstrap, registry, topic, schema_file, ((o["orderId"], o) for o in orders), seconds)
    figures = {}
    for o in orders:
        f = figures.setdefault(o["currency"], {"count": 0, "price": Decimal(0), "value": Decimal(0)})
        price = Decimal(repr(o["price"]))
        f["count"] += 1
        f["price"] += price
        f["value"] += price * o["quantity"]
    print(json.dumps({"produced": count, "currencies": {c: {
        "count": f["count"],
        "priceSum": str(f["price"]),
        "priceMean": float(f["price"] / f["count"]),
        "orderValueSum": str(f["value"]),
        "orderValueMean": float(f["value"] / f["count"]),
    } for c, f in figures.items()}}))


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
        produce_orders(bootstrap, registry, topic, int(count), extra, float(sys.argv[7]) if len(sys.argv) > 7 else 0.0)
    elif command == "consume-string-keys":
        consume_string_keys(bootstrap, registry, topic, int(count), extra)
    elif command == "consume":
        consume(bootstrap, registry, topic, int(count), extra)
    else:
        sys.exit(f"unknown command {command}")
