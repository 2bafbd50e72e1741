import { eventually, kafkaBrokers, uniqueName } from '@gancho/testing';
import { KafkaTransport } from './kafka-transport';

// On the real broker: once the adapter is loaded, an open kafkajs connection
// with nothing to do arms no timer. Before the fix each connection's request
// queue re-checked itself every millisecond (hundreds of checks a second,
// fewer only if the machine is too busy to run them); now it checks when a
// response or a request comes, so an idle second has at most a handful.
describe('kafkajs request queues with nothing to do', () => {
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'gancho-idle-fix-test', maxWaitTimeMs: 5_000 });
  afterAll(() => transport.close());

  it('do not re-check themselves while idle', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: { checkPendingRequests(): void } };
    const original = RequestQueue.prototype.checkPendingRequests;
    let checks = 0;
    RequestQueue.prototype.checkPendingRequests = function (this: unknown) {
      checks++;
      return original.call(this);
    };
    try {
      const topic = uniqueName('test.idle-fix');
      await transport.ensureTopics([{ topic, partitions: 1 }]);
      await transport.publish(topic, [{ key: 'k', value: 'v' }]);
      // The connections have answered requests: the point where the old queue started its loop.
      await eventually(() => expect(checks).toBeGreaterThan(0));
      const before = checks;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(checks - before).toBeLessThan(20);
    } finally {
      RequestQueue.prototype.checkPendingRequests = original;
    }
  });
});
