// KafkaJS against the local stack, driven by KafkaJsInteropTests: prints one JSON document on stdout.
// Usage: node kafkajs_interop.js admin|roundtrip BOOTSTRAP TOPIC [COUNT GROUP]
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const [mode, bootstrap, topic, count, group] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'orders-kafkajs-interop', brokers: bootstrap.split(','), logLevel: logLevel.WARN });

async function admin() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const createdAgain = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const cluster = await admin.describeCluster();
    return {
      created,
      createdAgain,
      partitions: metadata.topics[0].partitions.length,
      controller: cluster.controller,
      brokers: cluster.brokers.map(b => b.nodeId),
    };
  } finally {
    await admin.disconnect();
  }
}

async function roundtrip() {
  const total = Number(count);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = [];
  for (let i = 0; i < total; i += 10) {
    const messages = [];
    for (let j = i; j < Math.min(i + 10, total); j++) {
      messages.push({ key: `k${j}`, value: `v${j}` });
    }
    sent.push(...messages.map(m => m.value));
    await producer.send({ topic, messages });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${total} records within 60 s`)), 60000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, value: message.value.toString() });
        if (received.length >= total) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return { produced: sent.length, values: received.map(r => r.value), partitions: [...new Set(received.map(r => r.partition))].sort() };
}

(mode === 'admin' ? admin() : roundtrip())
  .then(result => { process.stdout.write(JSON.stringify(result)); process.exit(0); })
  .catch(error => { console.error(error.stack || String(error)); process.exit(1); });
