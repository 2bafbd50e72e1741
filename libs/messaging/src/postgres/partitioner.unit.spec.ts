import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from './partitioner';

// Scenarios:
// - murmur2 gives Kafka's reference values (from Kafka's own UtilsTest);
// - every key lands on the partition kafkajs' default partitioner picks, for
//   keys of every length mod 4 and non-ASCII keys.
describe('partitionForKey', () => {
  it('hashes like Kafka', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it('puts every key on the partition kafkajs would', () => {
    const kafkaPartitioner = Partitioners.DefaultPartitioner();
    const keys = [...Array.from({ length: 500 }, (_, i) => randomBytes(i % 37).toString('base64url')), 'purchase:pur_1', 'matrícula-ção', ''];
    for (const partitions of [1, 3, 8, 13]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0] }));
      for (const key of keys) {
        const expected = kafkaPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect([key, partitionForKey(key, partitions)]).toEqual([key, expected]);
      }
    }
  });
});
