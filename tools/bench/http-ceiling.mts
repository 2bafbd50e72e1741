// The HTTP ceiling: signed webhook POSTs straight from undici (keep-alive
// pools, the client delivery uses) to the same receivers, with no platform in
// between. Run as its own process — under the services' Node, or another Node
// to compare runtimes — and prints one JSON line of figures.
//
//   node tools/bench/http-ceiling.mts '{"targets":[{"url":"http://127.0.0.1:…/e/k","secret":"whsec_…"}],"durationMs":5000,"concurrency":64}'
import { Pool } from 'undici';
import { eventTypeOf, examplePayload } from '@gancho/contracts';
import { webhookBodyFor } from '@gancho/delivery-domain';
import { signWebhook } from '@gancho/webhook-signing';
import { Histogram } from './histogram.mts';
import { signWithKeyObject, useKeyObjects } from './keyobject-hmac.mts';

export interface HttpCeilingInput {
  targets: { url: string; secret: string }[];
  durationMs: number;
  /** Requests in flight at once (delivery's DISPATCH_CONCURRENCY is 64). */
  concurrency: number;
}

export interface HttpCeilingResult {
  node: string;
  requests: number;
  ok: number;
  errors: number;
  seconds: number;
  perSecond: number;
  clientLatency: ReturnType<Histogram['summary']>;
  cpuSeconds: number;
}

/** A webhook body exactly as delivery sends it, with a fresh occurred_at and purchase id. */
export function webhookBody(partnerId: string, purchaseId: string, occurredAt: Date): string {
  const type = eventTypeOf('waiting_payment');
  const data = { ...examplePayload(type).data, partner_id: partnerId, purchase_id: purchaseId, occurred_at: occurredAt.toISOString() };
  return webhookBodyFor(data, type);
}

export async function runHttpCeiling(input: HttpCeilingInput): Promise<HttpCeilingResult> {
  const origins = [...new Set(input.targets.map((t) => new URL(t.url).origin))];
  const perOrigin = Math.max(1, Math.ceil(input.concurrency / origins.length));
  const pools = new Map(origins.map((origin) => [origin, new Pool(origin, { connections: perOrigin, pipelining: 1, keepAliveTimeout: 60_000 })]));
  const targets = input.targets.map((t) => {
    const url = new URL(t.url);
    return { pool: pools.get(url.origin) as Pool, path: url.pathname, secret: t.secret };
  });
  const latency = new Histogram();
  let requests = 0;
  let ok = 0;
  let errors = 0;
  let next = 0;
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  const deadline = startedAt + input.durationMs;

  const worker = async () => {
    while (performance.now() < deadline) {
      const target = targets[next++ % targets.length] as (typeof targets)[number];
      const n = requests++;
      const now = new Date();
      const body = webhookBody('ptn_bench_ceiling', `pur_ceiling_${n}`, now);
      const id = `msg_ceiling_${process.pid}_${n}`;
      const signed = useKeyObjects ? signWithKeyObject(id, now, body, target.secret) : signWebhook({ id, timestamp: now, body, secrets: [target.secret] });
      const headers = { 'content-type': 'application/json', ...signed };
      const sentAt = performance.now();
      try {
        const response = await target.pool.request({ path: target.path, method: 'POST', headers, body });
        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) ok++;
        else errors++;
      } catch {
        errors++;
      }
      latency.record(performance.now() - sentAt);
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, worker));
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  await Promise.all([...pools.values()].map((p) => p.close()));
  return {
    node: process.version,
    requests,
    ok,
    errors,
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round(ok / seconds),
    clientLatency: latency.summary(),
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
  };
}

if (import.meta.main) {
  const input = JSON.parse(process.argv[2] ?? '{}') as HttpCeilingInput;
  const result = await runHttpCeiling(input);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
