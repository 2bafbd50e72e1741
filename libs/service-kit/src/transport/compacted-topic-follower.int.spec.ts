import { Topics } from '@gancho/contracts';
import { KafkaTransport, PostgresTransport, type EventTransport } from '@gancho/messaging';
import { createTestDatabase, kafkaBrokers, uniqueName, type TestDatabase } from '@gancho/testing';
import { contractTopicSpec } from '../contracts/contract-topic-spec';
import { CompactedTopicFollower } from './compacted-topic-follower';

// Caught up means: every record published before the follower started is
// applied, known from the topic's end rather than from a quiet spell or a
// timer. Both timers are an hour here, so only the topic's end can end the wait.
const never = 3_600_000;

describe.each([
  ['the PostgreSQL log', 'postgres'],
  ['Kafka', 'kafka'],
] as const)('CompactedTopicFollower on %s', (_name, kind) => {
  let database: TestDatabase | undefined;
  let transport: EventTransport;
  const followers: CompactedTopicFollower[] = [];

  beforeAll(async () => {
    if (kind === 'postgres') {
      database = await createTestDatabase('service_kit_follower');
      transport = new PostgresTransport({ connectionString: database.url, clientId: uniqueName('follower-test'), pollIntervalMs: 200 });
    } else {
      transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: uniqueName('follower-test') });
    }
  });
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
  });
  afterAll(async () => {
    await transport.close();
    await database?.drop();
  });

  function follow(topic: string, applied: string[]): CompactedTopicFollower {
    const follower = new CompactedTopicFollower({
      transport,
      topic,
      contract: Topics.endpoints,
      groupPrefix: uniqueName('follower'),
      quietMs: never,
      maxWarmupMs: never,
      apply: (key, value) => void applied.push(`${key}=${value?.toString() ?? 'tombstone'}`),
    });
    followers.push(follower);
    return follower;
  }

  it('is caught up on an empty topic once it has read where the topic ends', async () => {
    const topic = uniqueName('test.follower-empty');
    const follower = follow(topic, []);
    await follower.start();
    // Only the read of the topic's end is left to wait for (no timer can end it: see `never`).
    await follower.waitUntilCaughtUp();
    expect(follower.isCaughtUp()).toBe(true);
  });

  it('is caught up once every record published before it started is applied, a tombstone included', async () => {
    const topic = uniqueName('test.follower-records');
    await transport.ensureTopics([contractTopicSpec(Topics.endpoints, { topic })]);
    const published = Array.from({ length: 40 }, (_, i) => `ep_${i}`);
    await transport.publish(
      topic,
      published.map((key) => ({ key, value: `v1-${key}` })),
    );
    await transport.publish(topic, [{ key: 'ep_0', value: '' }]);
    const applied: string[] = [];
    const follower = follow(topic, applied);
    await follower.start();
    await follower.waitUntilCaughtUp();
    // Everything before the start is in, the last record (a tombstone) included.
    expect(applied).toEqual(expect.arrayContaining([...published.map((key) => `${key}=v1-${key}`), 'ep_0=tombstone']));
    expect(applied).toHaveLength(published.length + 1);
  });
});
