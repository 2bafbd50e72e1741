// Why signed POSTs are slower on Node 24 than on Node 22: createHmac with a
// Buffer key. Node 24's prepareSecretKey first asks whether the key is a
// KeyObject, then whether it is a CryptoKey, each by a brand check that throws
// and is caught for anything else — two exceptions per HMAC. A KeyObject made
// once (crypto.createSecretKey) skips both. Run it under each Node:
//
//   node tools/bench/hmac-keys.mts
//   npm exec --package=node@22 -- node tools/bench/hmac-keys.mts
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

const key = Buffer.alloc(32, 7);
const keyObject = createSecretKey(key);
const body = JSON.stringify({ type: 'purchase.waiting_payment', data: { filler: 'x'.repeat(420) } });

function perHmacMicros(k: Buffer | KeyObject, n: number): number {
  for (let i = 0; i < n / 10; i++) createHmac('sha256', k).update('msg_1.1764273600.').update(body).digest();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) createHmac('sha256', k).update('msg_1.1764273600.').update(body).digest();
  return Number(process.hrtime.bigint() - started) / n / 1000;
}

const n = Number(process.argv[2] ?? 200_000);
const buffer = perHmacMicros(key, n);
const object = perHmacMicros(keyObject, n);
console.log(`${process.version}: HMAC-SHA256 of a ${body.length}-byte webhook: Buffer key ${buffer.toFixed(2)} µs, KeyObject key ${object.toFixed(2)} µs (${(buffer / object).toFixed(1)}×)`);
