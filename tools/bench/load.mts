// Load for the scenarios: status events produced straight onto the status
// topic (delivery only), or status changes driven through the journey API
// (e2e). Either is offered at a fixed rate, or as fast as the platform keeps
// up — the backlog of deliveries not yet received is held near a bound, so
// "sustained" means the platform delivered it, not that it queued it.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Pool } from 'undici';
import { eventTypeOf, examplePayload, toCloudEventsKafkaMessage, type PurchaseStatus } from '@gancho/contracts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- a script of tools/, not a library
import { journeySteps } from '../platform/journey-steps.mts';
import { Histogram } from './histogram.mts';
import type { ReceiverCount, ReceiverFleet } from './receivers.mts';

export interface LoadSource {
  /** Healthy deliveries one unit (an event, a command) is expected to cause, on average. */
  readonly perUnit: number;
  /** Units started so far. */
  readonly started: number;
  /** Healthy deliveries owed for the units that completed (produced, or answered 2xx). */
  readonly expected: number;
  /** Healthy deliveries owed for units still in progress. */
  readonly pending: number;
  /** Starts up to `units` units; returns how many it started. */
  start(units: number): Promise<number>;
  /** Waits for units in progress. */
  settle(): Promise<void>;
}

const statuses: PurchaseStatus[] = ['basic_info_review', 'analysis', 'waiting_payment', 'made_effective'];

/** Status events as the journey relay publishes them (CloudEvents binary mode), round-robin over the partners. */
export class StatusEventSource implements LoadSource {
  started = 0;
  expected = 0;
  readonly pending = 0;
  readonly perUnit: number;
  private readonly run = randomUUID().slice(0, 8);
  private readonly producer: Producer;
  private readonly topic: string;
  private readonly partners: { partnerId: string; healthyEndpoints: number }[];

  private readonly eventsPerPurchase: number;

  /**
   * `partners`: each partner and how many healthy endpoints an event of it
   * reaches. `eventsPerPurchase`: consecutive events of a partner share a
   * purchase (sequence 1, 2, …), as the journey emits them, so endpoints that
   * keep each purchase in order have something to order.
   */
  constructor(producer: Producer, topic: string, partners: { partnerId: string; healthyEndpoints: number }[], { eventsPerPurchase = 1 } = {}) {
    this.producer = producer;
    this.topic = topic;
    this.partners = partners;
    this.eventsPerPurchase = eventsPerPurchase;
    this.perUnit = partners.reduce((sum, p) => sum + p.healthyEndpoints, 0) / partners.length;
  }

  async start(units: number): Promise<number> {
    if (units <= 0) return 0;
    const now = new Date();
    const messages = [];
    let owed = 0;
    for (let i = 0; i < units; i++) {
      const n = this.started + i;
      const partner = this.partners[n % this.partners.length] as (typeof this.partners)[number];
      const status = statuses[n % statuses.length] as PurchaseStatus;
      const type = eventTypeOf(status);
      // The n-th event of a partner belongs to its purchase ⌊n / eventsPerPurchase⌋.
      const ofPartner = Math.floor(n / this.partners.length);
      const purchaseId = `pur_bench_${this.run}_${n % this.partners.length}_${Math.floor(ofPartner / this.eventsPerPurchase)}`;
      const sequence = (ofPartner % this.eventsPerPurchase) + 1;
      const data = { ...examplePayload(type).data, partner_id: partner.partnerId, purchase_id: purchaseId, sequence, occurred_at: now.toISOString() };
      messages.push(toCloudEventsKafkaMessage({ eventId: randomUUID(), type, time: now, purchaseId, data }));
      owed += partner.healthyEndpoints;
    }
    this.started += units;
    await this.producer.send({ topic: this.topic, messages });
    this.expected += owed;
    return units;
  }

  /** Sends are awaited in `start`: nothing is ever in progress. */
  settle(): Promise<void> {
    return Promise.resolve();
  }
}

interface PurchaseSlot {
  partner: { partnerId: string; healthyEndpoints: number };
  purchaseId: string | null;
  step: number;
  busy: boolean;
}

/** Commands to the journey API over many purchases at once; each 2xx is one status change. */
export class JourneySource implements LoadSource {
  started = 0;
  expected = 0;
  pending = 0;
  errors = 0;
  lastError = '';
  readonly perUnit: number;
  readonly commandLatency = new Histogram();
  private readonly pool: Pool;
  private readonly slots: PurchaseSlot[];
  private readonly inFlight = new Set<Promise<void>>();
  private cursor = 0;
  private readonly token: string;
  /** Commands in flight at most. */
  private readonly concurrency: number;

  constructor(journeyUrl: string, token: string, partners: { partnerId: string; healthyEndpoints: number }[], concurrency: number) {
    this.token = token;
    this.concurrency = concurrency;
    this.pool = new Pool(journeyUrl, { connections: Math.min(concurrency, 64), keepAliveTimeout: 60_000 });
    this.perUnit = partners.reduce((sum, p) => sum + p.healthyEndpoints, 0) / partners.length;
    this.slots = Array.from({ length: concurrency * 2 }, (_, i) => ({ partner: partners[i % partners.length] as PurchaseSlot['partner'], purchaseId: null, step: 0, busy: false }));
  }

  async start(units: number): Promise<number> {
    let issued = 0;
    while (issued < units && this.inFlight.size < this.concurrency) {
      const slot = this.nextIdle();
      if (!slot) break;
      const command = this.command(slot).finally(() => this.inFlight.delete(command));
      this.inFlight.add(command);
      issued++;
    }
    this.started += issued;
    return issued;
  }

  private nextIdle(): PurchaseSlot | undefined {
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[(this.cursor + i) % this.slots.length] as PurchaseSlot;
      if (!slot.busy) {
        this.cursor = (this.cursor + i + 1) % this.slots.length;
        return slot;
      }
    }
    return undefined;
  }

  private async command(slot: PurchaseSlot): Promise<void> {
    slot.busy = true;
    this.pending += slot.partner.healthyEndpoints;
    const opening = slot.purchaseId === null;
    const step = journeySteps[slot.step];
    const path = opening ? '/purchases' : `/purchases/${slot.purchaseId}/${step?.path}`;
    const body = opening
      ? {
          partner_id: slot.partner.partnerId,
          course: { id: 'crs_bench', name: 'Engenharia de Dados', price_cents: 990000, currency: 'BRL' },
          student: { name: 'Bia Lima', email: 'bia@example.com' },
          student_logged_in: false,
        }
      : step?.body;
    const sentAt = performance.now();
    try {
      const response = await this.pool.request({
        path,
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.body.text();
      this.commandLatency.record(performance.now() - sentAt);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.expected += slot.partner.healthyEndpoints;
        if (opening) {
          slot.purchaseId = (JSON.parse(text) as { purchase_id: string }).purchase_id;
          slot.step = 0;
        } else if (++slot.step >= journeySteps.length) {
          slot.purchaseId = null;
        }
      } else {
        this.errors++;
        this.lastError = `${response.statusCode} ${path}: ${text.slice(0, 300)}`;
        slot.purchaseId = null; // start a fresh purchase rather than repeat a refused step
      }
    } catch (error) {
      this.errors++;
      this.lastError = String(error);
      slot.purchaseId = null;
    } finally {
      this.pending -= slot.partner.healthyEndpoints;
      slot.busy = false;
    }
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.settle();
    await this.pool.close();
  }
}

export type DriveMode = { kind: 'saturate'; backlog: number } | { kind: 'rate'; unitsPerSecond: number };

export interface DriveResult {
  unitsStarted: number;
  expectedDeliveries: number;
  /** Healthy deliveries per second received between the end of the warm-up and the end of the load. */
  sustainedPerSecond: number;
  offeredUnitsPerSecond: number;
  loadSeconds: number;
  drained: boolean;
  drainSeconds: number;
  /** Healthy deliveries owed but not received when the drain gave up. */
  missing: number;
  /** Healthy deliveries owed (for units completed or in progress) but not yet received when the load stopped: what was queued. */
  outstandingAtEnd: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Offers load for `durationMs`, measures after `warmupMs`, then waits up to `drainTimeoutMs` for every delivery owed. */
export async function drive(options: { fleet: ReceiverFleet; source: LoadSource; mode: DriveMode; durationMs: number; warmupMs: number; drainTimeoutMs: number; tickMs?: number }): Promise<DriveResult> {
  const { fleet, source, mode } = options;
  const tickMs = options.tickMs ?? 20;
  const began = performance.now();
  const end = began + options.durationMs;
  let mark: { at: number; count: ReceiverCount } | undefined;
  while (performance.now() < end) {
    const now = performance.now();
    const count = await fleet.count();
    if (!mark && now - began >= options.warmupMs) mark = { at: now, count };
    if (mode.kind === 'saturate') {
      const outstanding = source.expected + source.pending - count.healthy;
      const units = Math.floor((mode.backlog - outstanding) / Math.max(source.perUnit, 1));
      if (units > 0) await source.start(Math.min(units, 2000));
    } else {
      const due = Math.floor((mode.unitsPerSecond * (now - began)) / 1000) - source.started;
      if (due > 0) await source.start(due);
    }
    await sleep(tickMs);
  }
  const loadEnd = { at: performance.now(), count: await fleet.count() };
  const from = mark ?? { at: began, count: { received: 0, verified: 0, healthy: 0 } };
  const sustainedPerSecond = (loadEnd.count.healthy - from.count.healthy) / ((loadEnd.at - from.at) / 1000);
  const outstandingAtEnd = Math.max(0, source.expected + source.pending - loadEnd.count.healthy);
  await source.settle();
  const drainStart = performance.now();
  let healthy = loadEnd.count.healthy;
  while (healthy < source.expected && performance.now() - drainStart < options.drainTimeoutMs) {
    await sleep(100);
    healthy = (await fleet.count()).healthy;
  }
  return {
    unitsStarted: source.started,
    expectedDeliveries: source.expected,
    sustainedPerSecond: Math.round(sustainedPerSecond),
    offeredUnitsPerSecond: Math.round((source.started / (loadEnd.at - began)) * 1000),
    loadSeconds: Math.round((loadEnd.at - began) / 100) / 10,
    drained: healthy >= source.expected,
    drainSeconds: Math.round((performance.now() - drainStart) / 100) / 10,
    missing: Math.max(0, source.expected - healthy),
    outstandingAtEnd,
  };
}
