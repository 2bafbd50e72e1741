// The counting, without I/O: which purchases reached which phase, per
// partner, how many students bought from each partner, and how delivery's
// attempts went, per endpoint. It keeps ids only (purchase, endpoint, partner,
// and the student's pseudonymous subject_id): the status events of
// journey.purchase-status.v2 carry the name and e-mail only sealed under a
// key analytics never has.
import type { CloudEvent } from 'cloudevents';

/** The fields of a `journey.purchase-status.v2` value this counter reads. */
export interface PurchaseStatusData {
  purchase_id: string;
  partner_id: string;
  status: string;
  phase: string;
  sequence: number;
  /** `sealed` is left alone: analytics counts students by their stable pseudonymous id. */
  student: { subject_id: string };
}

/** The fields of a `delivery.attempts.v1` value this counter reads. */
export interface DeliveryAttemptData {
  message_id: string;
  endpoint_id: string;
  partner_id: string;
  attempt_number: number;
  outcome: 'succeeded' | 'scheduled' | 'exhausted' | 'failed' | 'endpoint_disabled';
}

export interface EndpointAttempts {
  partner_id: string;
  attempts: number;
  succeeded: number;
  /** succeeded / attempts, rounded to 4 places. */
  success_rate: number;
  by_outcome: Record<string, number>;
}

export interface FunnelReport {
  /** partner id → phase → purchases that reached the phase (each purchase once per phase). */
  funnel: Record<string, Record<string, number>>;
  /** partner id → distinct students (by student.subject_id) with a purchase there. */
  students: Record<string, number>;
  /** endpoint id → its attempts. */
  attempts: Record<string, EndpointAttempts>;
  /** Records read twice (same CloudEvents id: a redelivery or a republish), counted once. */
  duplicates: number;
  /** Records of a type this counter does not count (a newer event type, say), left alone. */
  ignored: number;
}

const mapOf = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
};

export class FunnelCounter {
  private readonly reached = new Map<string, Map<string, Set<string>>>();
  private readonly students = new Map<string, Set<string>>();
  private readonly endpoints = new Map<string, { partnerId: string; attempts: number; succeeded: number; byOutcome: Map<string, number> }>();
  // In production this set belongs in your store (or use the sink's own idempotency); here, memory.
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private ignored = 0;

  /** Counts a record once per CloudEvents id (`ce_id`): consumers read at least once. */
  private firstTime(event: CloudEvent<unknown>): boolean {
    const key = `${event.source} ${event.id}`;
    if (this.seen.has(key)) {
      this.duplicates++;
      return false;
    }
    this.seen.add(key);
    return true;
  }

  /** A record of `journey.purchase-status.v2` (CloudEvents type `purchase.<status>`). */
  addStatus(event: CloudEvent<unknown>): void {
    if (!event.type.startsWith('purchase.')) return void this.ignored++;
    if (!this.firstTime(event)) return;
    const data = event.data as PurchaseStatusData;
    mapOf(
      mapOf(this.reached, data.partner_id, () => new Map()),
      data.phase,
      () => new Set(),
    ).add(data.purchase_id);
    mapOf(this.students, data.partner_id, () => new Set()).add(data.student.subject_id);
  }

  /** A record of `delivery.attempts.v1` (CloudEvents type `delivery.attempt`). */
  addAttempt(event: CloudEvent<unknown>): void {
    if (event.type !== 'delivery.attempt') return void this.ignored++;
    if (!this.firstTime(event)) return;
    const data = event.data as DeliveryAttemptData;
    const endpoint = mapOf(this.endpoints, data.endpoint_id, () => ({ partnerId: data.partner_id, attempts: 0, succeeded: 0, byOutcome: new Map<string, number>() }));
    endpoint.attempts++;
    if (data.outcome === 'succeeded') endpoint.succeeded++;
    endpoint.byOutcome.set(data.outcome, (endpoint.byOutcome.get(data.outcome) ?? 0) + 1);
  }

  report(): FunnelReport {
    const funnel: FunnelReport['funnel'] = {};
    for (const [partner, phases] of this.reached) funnel[partner] = Object.fromEntries([...phases].map(([phase, purchases]) => [phase, purchases.size]));
    const attempts: FunnelReport['attempts'] = {};
    for (const [endpointId, e] of this.endpoints) {
      attempts[endpointId] = {
        partner_id: e.partnerId,
        attempts: e.attempts,
        succeeded: e.succeeded,
        success_rate: Math.round((e.succeeded / e.attempts) * 10_000) / 10_000,
        by_outcome: Object.fromEntries(e.byOutcome),
      };
    }
    const students = Object.fromEntries([...this.students].map(([partner, subjects]) => [partner, subjects.size]));
    return { funnel, students, attempts, duplicates: this.duplicates, ignored: this.ignored };
  }
}
