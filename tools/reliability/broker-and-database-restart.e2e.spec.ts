import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startRestartFixture, underLoad, type FaultOutcome, type RestartFixture } from './restart-fixture.mts';

// With real processes, on a PostgreSQL server and a Kafka broker of this test's
// own: the three services run while four lanes keep changing purchase statuses
// through the journey API, for two partners and three verifying endpoints
// (one subscribed to two types only). Then:
//   1. the Kafka broker's JVM is SIGKILLed, stays down for 5 s, and starts again;
//   2. PostgreSQL is stopped with `-m immediate` (a crash: no checkpoint, every
//      connection dropped), stays down for 5 s, and starts again.
// After each: every (event, endpoint) the journey stored and the endpoint
// subscribes to arrived at least once, signed, under one webhook-id; nothing
// arrived at a wrong endpoint; no service exited; duplicates and the time to
// clear the backlog are reported (and written to reports/reliability/, with
// each service's whole log under reports/reliability/restart-logs/).
// Throughout, no API (the journey's, and the partner APIs of subscriptions and
// delivery, polled beside the load) answers 500: while PostgreSQL is down they
// answer 503 DATABASE_UNAVAILABLE with Retry-After, and serve again after.
describe('broker and database restarts under load', () => {
  let fixture: RestartFixture;
  const outcomes: Record<string, FaultOutcome> = {};

  beforeAll(async () => {
    fixture = await startRestartFixture(`restarts-${process.pid}`);
  }, 150_000);
  afterAll(async () => {
    await fixture?.close();
    const file = path.join(__dirname, '..', '..', 'reports', 'reliability', 'restarts.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(outcomes).map(([k, o]) => [k, { ...o, ledger: { ...o.ledger, backlogClearedAfterMs: undefined } }])), null, 2));
  });

  const expectNothingLost = (fault: string, outcome: FaultOutcome) => {
    const { ledger, load, partnerApis, recoveryMs, faultMs } = outcome;
    process.stdout.write(
      `${fault}: ${ledger.expected} expected deliveries, ${ledger.delivered} delivered, ${ledger.duplicates} duplicates, ${ledger.lost} lost, ` +
        `${ledger.wrongEndpoint} at a wrong endpoint; fault ${faultMs} ms, backlog cleared ${recoveryMs} ms after recovery; ` +
        `journey API: ${load.accepted} calls accepted, ${load.failedAttempts} attempts retried ${JSON.stringify(load.failureStatuses)}, longest gap ${load.longestGapMs} ms; ` +
        `partner APIs polled: subscriptions ${JSON.stringify(partnerApis.subscriptions.statuses)}, delivery ${JSON.stringify(partnerApis.delivery.statuses)}\n`,
    );
    expect(fixture.exits.map((e) => `${e.service} exited ${e.code}:\n${e.tail.join('\n')}`)).toEqual([]);
    expect(ledger.expected).toBeGreaterThan(100);
    expect({ lost: ledger.lost, wrongEndpoint: ledger.wrongEndpoint, unverified: ledger.unverified, unstableIds: ledger.unstableIds }).toEqual({ lost: 0, wrongEndpoint: 0, unverified: 0, unstableIds: 0 });
    expect(recoveryMs).toBeLessThan(60_000);
    // A client is told to come back (503 with Retry-After), never that we failed (500).
    const answers = { journey: load.failureStatuses, ...Object.fromEntries(Object.entries(partnerApis).map(([api, a]) => [api, a.statuses])) };
    const serverErrors = Object.entries(answers).flatMap(([api, statuses]) =>
      Object.keys(statuses)
        .filter((s) => s.startsWith('5') && s !== '503')
        .map((s) => `${api} ${s}`),
    );
    expect(serverErrors).toEqual([]);
    expect({ journey: load.withoutRetryAfter, subscriptions: partnerApis.subscriptions.withoutRetryAfter, delivery: partnerApis.delivery.withoutRetryAfter }).toEqual({ journey: 0, subscriptions: 0, delivery: 0 });
  };

  it('loses nothing when the Kafka broker is SIGKILLed and restarted', async () => {
    const outcome = await underLoad(fixture, async () => {
      await fixture.infra.killKafka();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await fixture.infra.startKafka();
    });
    outcomes['kafka broker SIGKILL + restart'] = outcome;
    expectNothingLost('kafka broker SIGKILL, 5 s down', outcome);
  });

  it('loses nothing when PostgreSQL crashes (immediate stop) and restarts', async () => {
    const outcome = await underLoad(fixture, async () => {
      await fixture.infra.stopPostgresImmediately();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await fixture.infra.startPostgres();
    });
    outcomes['postgresql immediate stop + restart'] = outcome;
    expectNothingLost('postgresql immediate stop, 5 s down', outcome);
    // Every API told its callers to come back while the database was down (503 + Retry-After), and served again after.
    expect(outcome.load.failureStatuses).toEqual({ '503': expect.any(Number) });
    expect(outcome.partnerApis.subscriptions.statuses['503']).toBeGreaterThan(0);
    expect(outcome.partnerApis.delivery.statuses['503']).toBeGreaterThan(0);
  });
});
