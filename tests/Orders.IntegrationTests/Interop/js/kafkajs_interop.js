// KafkaJS against the local stack, driven by KafkaJsInteropTests: prints one JSON document on stdout.
// Usage: node kafkajs_interop.js admin|roundtrip BOOTSTRAP TOPIC [COUNT GROUP]
//        node kafkajs_interop.js sized BOOTSTRAP TOPIC SIZE PARTITION... (one send: a value of SIZE bytes to the
//        first partition, a small one to each other; KafkaJS puts one broker's partitions in one produce request)
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

async function sized() {
  const [size, ...partitions] = process.argv.slice(5).map(Number);
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  let error = null;
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition, i) => ({ partition, value: i === 0 ? 'x'.repeat(size) : `small-${partition}` })),
    });
  } catch (e) {
    const cause = e.type ? e : (e.cause || {});
    error = { name: e.name, type: cause.type || null, code: cause.code ?? null, message: e.message };
  }
  await producer.disconnect();
  return { error };
}

(mode === 'admin' ? admin() : mode === 'sized' ? sized() : roundtrip())
  .then(result => { process.stdout.write(JSON.stringify(result)); process.exit(0); })
  .catch(error => { console.error(error.stack || String(error)); process.exit(1); });
