// The platform on a private PostgreSQL and a private Kafka broker, with two
// partners, three verifying receivers and a journey load: what the broker and
// database restart tests share.
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
// These reuse the infra and platform scripts of tools/ rather than copies of
// them; they are scripts, not a library, so the boundary rule does not know them.
/* eslint-disable @nx/enforce-module-boundaries */
import { newPlatformSecrets, startPlatform, type Platform, type PlatformSecrets } from '../platform/platform.mts';
import type { ServiceName } from '../platform/service-processes.mts';
import { repoRoot } from '../infra/paths.mts';
import { reconcile, type EndpointSubscription, type LedgerReport, type StoredEvent } from './delivery-ledger.mts';
import { startJourneyLoad, type LoadStats } from './journey-load.mts';
import { freePort } from '../infra/ports.mts';
import { startPrivateInfra, type PrivateInfra } from './private-infra.mts';
import { startRecordingReceiver, type RecordingReceiver } from './recording-receiver.mts';

export interface ServiceExit {
  service: ServiceName;
  code: number | null;
  at: number;
  tail: string[];
}

export interface RestartFixture {
  infra: PrivateInfra;
  platform: Platform;
  secrets: PlatformSecrets;
  receivers: RecordingReceiver[];
  endpoints: EndpointSubscription[];
  partnerIds: string[];
  /** One API key per partner, in the order of `partnerIds`. */
  apiKeys: string[];
  /** Services that exited on their own (never expected). */
  exits: ServiceExit[];
  /** The last lines each service wrote (all of them are in `logDir`). */
  logTail: Record<ServiceName, string[]>;
  /** reports/reliability/restart-logs/: each service's whole output, `<service>.log`, kept after the run. */
  logDir: string;
  close(): Promise<void>;
}

async function call(base: string, path: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startRestartFixture(name: string): Promise<RestartFixture> {
  const infra = await startPrivateInfra(name);
  const [aAll, aMilestones, bAll] = (await Promise.all(['a-all', 'a-milestones', 'b-all'].map((n) => startRecordingReceiver(n)))) as [RecordingReceiver, RecordingReceiver, RecordingReceiver];
  const receivers = [aAll, aMilestones, bAll];
  const secrets = newPlatformSecrets();
  const logTail: Record<ServiceName, string[]> = { journey: [], subscriptions: [], delivery: [] };
  const logDir = path.join(repoRoot, 'reports', 'reliability', 'restart-logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const logFiles = Object.fromEntries((['journey', 'subscriptions', 'delivery'] as const).map((s) => [s, createWriteStream(path.join(logDir, `${s}.log`))])) as Record<ServiceName, WriteStream>;
  const closeLogs = () => Promise.all(Object.values(logFiles).map((file) => new Promise((resolve) => file.end(resolve))));
  const exits: ServiceExit[] = [];
  let closing = false;
  let platform: Platform;
  try {
    platform = await startPlatform({
      databaseUrl: infra.databaseUrl,
      kafkaBrokers: infra.kafkaBrokers,
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets,
      allowedEndpointHosts: receivers.map((r) => r.host),
      env: { ENDPOINTS_WARMUP_MS: '1000', DISPATCH_POLL_MS: '100', KAFKA_SESSION_TIMEOUT_MS: '6000', REQUEST_TIMEOUT_MS: '2000' },
      onOutput: (service, line) => {
        logFiles[service].write(`${line}\n`);
        const tail = logTail[service];
        tail.push(line);
        if (tail.length > 60) tail.shift();
      },
    });
  } catch (error) {
    await Promise.all(receivers.map((r) => r.close()));
    await infra.destroy();
    await closeLogs();
    throw error;
  }
  const watch = (service: ServiceName) =>
    void platform.services[service].exited.then((code) => {
      if (!closing) exits.push({ service, code, at: Date.now(), tail: [...logTail[service]] });
    });
  (['journey', 'subscriptions', 'delivery'] as const).forEach(watch);

  const { subscriptions, delivery } = platform.urls;
  const partnerIds: string[] = [];
  const endpoints: EndpointSubscription[] = [];
  const plan: [RecordingReceiver, 0 | 1, string[]][] = [
    [aAll, 0, ['purchase.*']],
    [aMilestones, 0, ['purchase.analysis', 'purchase.made_effective']],
    [bAll, 1, ['*']],
  ];
  const keys: string[] = [];
  for (const partnerName of ['Escola Azul', 'Escola Verde']) {
    const partner = await call(subscriptions, '/admin/partners', secrets.adminToken, 'POST', { name: partnerName });
    partnerIds.push(partner.body.id as string);
    keys.push((await call(subscriptions, `/admin/partners/${partner.body.id as string}/api-keys`, secrets.adminToken, 'POST')).body.key as string);
  }
  for (const [receiver, partnerIndex, eventTypes] of plan) {
    const [key, partnerId] = [keys[partnerIndex] as string, partnerIds[partnerIndex] as string];
    const created = await until('endpoint created', async () => {
      const response = await call(subscriptions, '/endpoints', key, 'POST', { url: receiver.url, event_types: eventTypes });
      return response.status === 201 ? response.body : undefined;
    });
    const endpointId = created.id as string;
    const secret = ((await call(subscriptions, `/endpoints/${endpointId}/secret`, key)).body.current as { secret: string }).secret;
    receiver.setSecret(secret);
    endpoints.push({ name: receiver.name, partnerId, eventTypes });
    // Delivery knows an endpoint once its partner API stops answering 404 for it.
    await until('delivery knows the endpoint', async () => ((await call(delivery, `/endpoints/${endpointId}/stats`, key)).status === 200 ? true : undefined));
  }

  return {
    infra,
    platform,
    secrets,
    receivers,
    endpoints,
    partnerIds,
    apiKeys: keys,
    exits,
    logTail,
    logDir,
    close: async () => {
      closing = true;
      await platform.stop();
      await Promise.all(receivers.map((r) => r.close()));
      await infra.destroy();
      await closeLogs();
    },
  };
}

/** Every status change the journey stored for these purchases, straight from its event table. */
/** Delivery's messages that may still be sent: waiting (a retry scheduled, too) or in flight. */
async function unsettledMessages(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM delivery.messages WHERE status IN ('pending', 'sending')");
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

export async function storedEvents(databaseUrl: string, purchaseIds: string[]): Promise<StoredEvent[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ stream_id: string; stream_version: number; status: string; partner_id: string; recorded_at: Date }>(
      `SELECT e.stream_id, e.stream_version, e.data->>'status' AS status, o.data->>'partnerId' AS partner_id, e.recorded_at
         FROM journey.events e JOIN journey.events o ON o.stream_id = e.stream_id AND o.stream_version = 1`,
    );
    const wanted = new Set(purchaseIds);
    return rows
      .map((row) => ({ purchaseId: row.stream_id.replace(/^.*:/, ''), partnerId: row.partner_id, sequence: row.stream_version, type: `purchase.${row.status}`, recordedAt: row.recorded_at.getTime() }))
      .filter((event) => wanted.has(event.purchaseId));
  } finally {
    await client.end();
  }
}

/** How a partner API answered while it was polled: statuses (or "no answer") and 503/429s without Retry-After. */
export interface ApiAnswers {
  statuses: Record<string, number>;
  withoutRetryAfter: number;
}

/** Polls a read route of each partner API (subscriptions' endpoint list, delivery's message log) until stopped. */
function probePartnerApis(fixture: RestartFixture): { answers: Record<'subscriptions' | 'delivery', ApiAnswers>; stop(): Promise<void> } {
  const routes = { subscriptions: `${fixture.platform.urls.subscriptions}/endpoints`, delivery: `${fixture.platform.urls.delivery}/messages?limit=1` };
  const answers = { subscriptions: { statuses: {}, withoutRetryAfter: 0 }, delivery: { statuses: {}, withoutRetryAfter: 0 } } as Record<'subscriptions' | 'delivery', ApiAnswers>;
  let stopping = false;
  const poll = async (service: 'subscriptions' | 'delivery') => {
    const seen = answers[service];
    while (!stopping) {
      let status = 'no answer';
      try {
        const response = await fetch(routes[service], { headers: { authorization: `Bearer ${fixture.apiKeys[0]}` }, signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        status = String(response.status);
        if ((response.status === 503 || response.status === 429) && !response.headers.get('retry-after')) seen.withoutRetryAfter++;
      } catch {
        // counted as no answer
      }
      seen.statuses[status] = (seen.statuses[status] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const polling = Promise.all([poll('subscriptions'), poll('delivery')]);
  return {
    answers,
    stop: async () => {
      stopping = true;
      await polling;
    },
  };
}

export interface FaultOutcome {
  ledger: LedgerReport;
  load: LoadStats;
  /** The partner APIs of subscriptions and delivery, polled from the start of the load until it stopped. */
  partnerApis: Record<'subscriptions' | 'delivery', ApiAnswers>;
  /** From the moment the broken part served again until every event recorded before then had arrived everywhere it should. */
  recoveryMs: number;
  faultMs: number;
}

/**
 * Runs the journey load, lets it warm up, applies `fault` (which resolves
 * when the broken part serves again), keeps the load going a little longer,
 * stops it, and waits for every expected delivery (up to `settleMs`).
 */
export async function underLoad(fixture: RestartFixture, fault: () => Promise<void>, { settleMs = 60_000 } = {}): Promise<FaultOutcome> {
  const load = startJourneyLoad({ journeyUrl: fixture.platform.urls.journey, token: fixture.secrets.platformToken, partnerIds: fixture.partnerIds, lanes: 4, pauseMs: 40 });
  const probe = probePartnerApis(fixture);
  const receivedBefore = fixture.receivers.reduce((n, r) => n + r.received.length, 0);
  await until('deliveries flowing', async () => (fixture.receivers.reduce((n, r) => n + r.received.length, 0) > receivedBefore + 30 ? true : undefined), 60_000);
  const faultStarted = Date.now();
  await fault();
  const servingAgain = Date.now();
  // The load goes on after the recovery: a hundred more journey calls accepted.
  const acceptedAtRecovery = load.stats.accepted;
  await until('load accepted after the recovery', async () => (load.stats.accepted >= acceptedAtRecovery + 100 ? true : undefined), 60_000);
  await Promise.all([load.stop(), probe.stop()]);
  const ids = new Set(load.stats.purchaseIds);
  const ledgerNow = async () => {
    const events = await storedEvents(fixture.infra.databaseUrl, load.stats.purchaseIds);
    const received = fixture.receivers.flatMap((r) => r.received.filter((d) => ids.has(d.purchaseId) || d.purchaseId === '?'));
    return reconcile(events, fixture.endpoints, received);
  };
  const deadline = Date.now() + settleMs;
  let ledger = await ledgerNow();
  while (ledger.lost > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    ledger = await ledgerNow();
  }
  // Late redeliveries would still count as duplicates: wait until delivery has no message left to send.
  await until('every message settled', async () => ((await unsettledMessages(fixture.infra.databaseUrl)) === 0 ? true : undefined), settleMs);
  ledger = await ledgerNow();
  return { ledger, load: load.stats, partnerApis: probe.answers, recoveryMs: ledger.backlogClearedAfterMs(servingAgain), faultMs: servingAgain - faultStarted };
}
