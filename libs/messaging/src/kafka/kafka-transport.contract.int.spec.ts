import path from 'node:path';
import { kafkaBrokers } from '@gancho/testing';
import { describeEventTransportContract } from '../transport-contract/transport-contract';
import { KafkaTransport, type KafkaTransportOptions } from './kafka-transport';

// The shared behavioural suite (transport-contract.ts) on the real broker. A
// short session timeout (the broker's minimum, 6 s) lets the crash test hand a
// SIGKILLed consumer's partitions over without waiting kafkajs' default 30 s.
const quick = (): KafkaTransportOptions => ({
  brokers: kafkaBrokers(),
  clientId: 'gancho-test-contract',
  maxWaitTimeMs: 100,
  sessionTimeoutMs: 6000,
  redeliveryBackoffMs: { initial: 50, max: 400 },
});

describeEventTransportContract('KafkaTransport', () => new KafkaTransport(quick()), {
  childTransport: () => ({ modulePath: path.join(__dirname, 'kafka-transport.ts'), exportName: 'KafkaTransport', options: { ...quick() } }),
});
