/**
 * The partition of a key: `(murmur2(utf8 key) & 0x7fffffff) mod partitions`,
 * the hash of Kafka's (and kafkajs') default partitioner. Any stable hash would
 * keep per-key order; this one also puts a key on the same partition number in
 * both adapters, which keeps logs and dashboards comparable between modes.
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** 32-bit MurmurHash2 with Kafka's seed, in signed 32-bit arithmetic. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length % 4;
  if (rest >= 3) h ^= byteAt(data, whole + 2) << 16;
  if (rest >= 2) h ^= byteAt(data, whole + 1) << 8;
  if (rest >= 1) h = Math.imul(h ^ byteAt(data, whole), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

function byteAt(data: Buffer, index: number): number {
  return data[index] ?? 0;
}
