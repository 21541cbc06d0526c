"""Python's confluent-kafka (legacy Avro API, python3-avro) against the local stack.

produce BOOTSTRAP REGISTRY TOPIC COUNT SCHEMA_FILE: registers the value schema through the
registry and produces COUNT records; prints {"produced": n, "priceSum": s} as JSON.
consume BOOTSTRAP REGISTRY TOPIC COUNT GROUP: reads COUNT Avro records; prints them as JSON.
"""
import json
import sys

from confluent_kafka import avro
from confluent_kafka.avro import AvroConsumer, AvroProducer


def produce(bootstrap, registry, topic, count, schema_file):
    with open(schema_file) as f:
        value_schema = avro.loads(f.read())
    producer = AvroProducer(
        {"bootstrap.servers": bootstrap, "schema.registry.url": registry, "enable.idempotence": True},
        default_key_schema=avro.loads('"string"'),
        default_value_schema=value_schema,
    )
    failures = []
    price_sum = 0.0
    for i in range(count):
        price = round(1.25 * (i + 1), 2)
        price_sum += price
        producer.produce(
            topic=topic,
            key=f"py-{i}",
            value={"orderId": f"py-{i}", "product": "kettle", "price": price},
            on_delivery=lambda err, msg: failures.append(str(err)) if err else None,
        )
    remaining = producer.flush(30)
    if failures or remaining:
        print(json.dumps({"failures": failures, "undelivered": remaining}), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"produced": count, "priceSum": price_sum}))


def consume(bootstrap, registry, topic, count, group):
    consumer = AvroConsumer({
        "bootstrap.servers": bootstrap,
        "schema.registry.url": registry,
        "group.id": group,
        "auto.offset.reset": "earliest",
    })
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
        records.append({"key": msg.key(), "value": msg.value()})
    consumer.close()
    print(json.dumps(records))


if __name__ == "__main__":
    command, bootstrap, registry, topic, count, extra = sys.argv[1:7]
    if command == "produce":
        produce(bootstrap, registry, topic, int(count), extra)
    elif command == "consume":
        consume(bootstrap, registry, topic, int(count), extra)
    else:
        sys.exit(f"unknown command {command}")
