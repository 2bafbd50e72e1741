// node src/main.mts — prints the funnel and the attempt success rates as one
// JSON line every REPORT_EVERY_MS, and once more on SIGINT/SIGTERM.
//   KAFKA_BROKERS=127.0.0.1:9092 FUNNEL_FROM=earliest node src/main.mts
import { FunnelCounter } from './funnel.mts';
import { defaultTopics, startFunnelConsumer } from './consumer.mts';

const env = process.env;
if (!env.KAFKA_BROKERS) {
  process.stderr.write('set KAFKA_BROKERS (host:port[,host:port…])\n');
  process.exit(2);
}
const from = env.FUNNEL_FROM ?? 'earliest';
if (from !== 'earliest' && from !== 'latest' && Number.isNaN(Date.parse(from))) {
  process.stderr.write('FUNNEL_FROM is earliest, latest or an ISO 8601 time\n');
  process.exit(2);
}

const counter = new FunnelCounter();
const consumer = await startFunnelConsumer(
  {
    brokers: env.KAFKA_BROKERS.split(','),
    groupId: env.FUNNEL_GROUP_ID ?? 'analytics.example.purchase-funnel',
    topics: {
      purchaseStatus: env.PURCHASE_STATUS_V2_TOPIC ?? defaultTopics.purchaseStatus,
      deliveryAttempts: env.DELIVERY_ATTEMPTS_TOPIC ?? defaultTopics.deliveryAttempts,
    },
    from: from === 'earliest' || from === 'latest' ? from : new Date(from),
    onUnreadable: (topic, error) => process.stderr.write(`skipped a record of ${topic}: ${error.message}\n`),
  },
  counter,
);
const print = () => process.stdout.write(`${JSON.stringify(counter.report())}\n`);
const timer = setInterval(print, Number(env.REPORT_EVERY_MS ?? 10_000));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(timer);
    print();
    void consumer.stop().then(() => process.exit(0));
  });
}
