"""kafka-python (Debian's python3-kafka, not built on librdkafka) against the local stack.

Driven by KafkaPythonInteropTests; prints one JSON document on stdout.
Usage: kafka_python_interop.py admin|describe|roundtrip BOOTSTRAP TOPIC [COUNT GROUP]
"""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError


def admin(bootstrap, topic):
    client = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="orders-kafka-python-interop")
    try:
        created = client.create_topics([NewTopic(topic, num_partitions=5, replication_factor=1)])
        try:
            client.create_topics([NewTopic(topic, num_partitions=5, replication_factor=1)])
            duplicate = "no error"
        except TopicAlreadyExistsError as error:
            duplicate = type(error).__name__
        configs = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0].resources[0][4]
        return {
            "createErrors": [error_code for (_, error_code, _) in created.topic_errors],
            "duplicate": duplicate,
            "partitions": len(client.describe_topics([topic])[0]["partitions"]),
            "configs": {name: value for (name, value, *_rest) in configs},
            "controller": client.describe_cluster()["controller_id"],
        }
    finally:
        client.close()


def describe(bootstrap, topic):
    """A topic's configs and replicas as DescribeConfigs and metadata give them."""
    client = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="orders-kafka-python-interop")
    try:
        configs = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0].resources[0][4]
        partitions = client.describe_topics([topic])[0]["partitions"]
        return {
            "configs": {name: value for (name, value, *_rest) in configs},
            "replicas": [len(p["replicas"]) for p in partitions],
        }
    finally:
        client.close()


def roundtrip(bootstrap, topic, count, group):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(count):
        producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    producer.flush(30)
    producer.close()

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             consumer_timeout_ms=30000)
    values = []
    for record in consumer:
        values.append(record.value.decode())
        if len(values) >= count:
            break
    consumer.commit()
    consumer.close()
    return {"values": values}


def main():
    mode, bootstrap, topic = sys.argv[1:4]
    if mode == "admin":
        result = admin(bootstrap, topic)
    elif mode == "describe":
        result = describe(bootstrap, topic)
    else:
        result = roundtrip(bootstrap, topic, int(sys.argv[4]), sys.argv[5])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
