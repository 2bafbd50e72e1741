// `node tools/bench/claim-query.mts`: what per-purchase ordering costs the
// delivery service's claim statement — the one SQL statement ordered delivery
// changed for every message. Runs, in one process and alternating, the claim
// as it was before ordered delivery (no ordering condition) and as it is now,
// against the same table on the real PostgreSQL, each in a transaction that is
// rolled back so every run sees the same rows. Two tables: no endpoint
// ordered (every partner today), and half the endpoints ordered.
//
//   node tools/bench/claim-query.mts [--runs=400] [--pending=20000] [--settled=200000]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
/* eslint-disable @nx/enforce-module-boundaries -- infra scripts by path, as bench.mts does */
import { repoRoot } from '../infra/paths.mts';
import { infraUp } from '../infra/up.mts';
/* eslint-enable @nx/enforce-module-boundaries */

const here = path.dirname(fileURLToPath(import.meta.url));
const option = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const runs = option('runs', 400);
const pendingCount = option('pending', 20_000);
const settledCount = option('settled', 200_000);
const endpoints = 200;
const eventsPerPurchase = 4;

// The statement under test, from delivery's build (built below; the app is CommonJS, so by require).
execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run', '@gancho/delivery:build', '--output-style=static'], {
  cwd: repoRoot,
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  stdio: 'ignore',
});
const { claimDueMessagesSql } = createRequire(import.meta.url)(path.join(repoRoot, 'apps/delivery/dist/dispatch/claim-query.js')) as {
  claimDueMessagesSql: (conditions?: readonly string[]) => string;
};
const statements = { before: claimDueMessagesSql([]), now: claimDueMessagesSql() };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function fill(client: pg.Client, orderedShare: number): Promise<void> {
  await client.query('TRUNCATE messages CASCADE');
  // Settled history (what the table holds most of the time) and a due backlog; ordered endpoints are the first `orderedShare` of them.
  await client.query(
    `INSERT INTO messages (message_id, event_id, endpoint_id, partner_id, event_type, purchase_id, payload, status, attempts, next_attempt_at, event_recorded_at, sequence, ordered)
     SELECT 'msg_' || i, gen_random_uuid(), 'ep_' || (i % $3), 'ptn_' || (i % $3 / 10), 'purchase.analysis',
            'pur_' || (i / ($3 * $4)) || '_' || (i % $3), '{}',
            CASE WHEN i < $2 THEN 'succeeded' ELSE 'pending' END, CASE WHEN i < $2 THEN 1 ELSE 0 END,
            CASE WHEN i < $2 THEN NULL ELSE now() - interval '1 second' + (i * interval '1 microsecond') END,
            now(), (i / $3) % $4 + 1, (i % $3) < $5
       FROM generate_series(0, $1 - 1) AS i`,
    [settledCount + pendingCount, settledCount, endpoints, eventsPerPurchase, Math.round(endpoints * orderedShare)],
  );
  await client.query('ANALYZE messages');
}

async function measure(client: pg.Client): Promise<Record<keyof typeof statements, { p50: number; p95: number; mean: number; rows: number }>> {
  const timings: Record<string, number[]> = { before: [], now: [] };
  const rows: Record<string, number> = { before: 0, now: 0 };
  for (let i = 0; i < runs + 20; i++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    const order = i % 2 === 0 ? (['before', 'now'] as const) : (['now', 'before'] as const);
    for (const name of order) {
      await client.query('BEGIN');
      const started = performance.now();
      const result = await client.query(statements[name], [20, true, [], 64]);
      const ms = performance.now() - started;
      await client.query('ROLLBACK');
      if (i >= 20) {
        timings[name]?.push(ms);
        rows[name] = result.rowCount ?? 0;
      }
    }
  }
  const summary = (name: keyof typeof statements) => {
    const sorted = [...(timings[name] ?? [])].sort((a, b) => a - b);
    const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
    return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), mean: round(mean), rows: rows[name] ?? 0 };
  };
  return { before: summary('before'), now: summary('now') };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  const infra = await infraUp();
  const database = `bench_claim_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: infra.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  const databaseUrl = Object.assign(new URL(infra.env.DATABASE_URL), { pathname: `/${database}` }).toString();
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'apps/delivery/dist/migrate.js')], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: 'ignore' });
    const client = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=delivery' });
    await client.connect();
    const results: Record<string, unknown> = {};
    for (const [label, share] of [
      ['no endpoint ordered', 0],
      ['half the endpoints ordered', 0.5],
    ] as const) {
      await fill(client, share);
      const r = await measure(client);
      results[label] = { ...r, ratioP50: round(r.now.p50 / r.before.p50), ratioMean: round(r.now.mean / r.before.mean) };
      process.stdout.write(
        `claim-query (${label}; ${settledCount} settled + ${pendingCount} due messages, LIMIT 64, ${runs} runs each): ` +
          `before ordering p50 ${r.before.p50} ms p95 ${r.before.p95} ms; now p50 ${r.now.p50} ms p95 ${r.now.p95} ms; now/before ${round(r.now.mean / r.before.mean)} (mean), rows claimed ${r.before.rows} / ${r.now.rows}\n`,
      );
    }
    await client.end();
    mkdirSync(path.join(here, 'results'), { recursive: true });
    const file = path.join(here, 'results', `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-claim-query.json`);
    writeFileSync(file, JSON.stringify({ machine: { cpus: os.cpus().length, loadavg: os.loadavg() }, runs, settledCount, pendingCount, endpoints, eventsPerPurchase, results }, null, 2));
    process.stdout.write(`claim-query: figures in ${path.relative(repoRoot, file)}\n`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
}

await main();
