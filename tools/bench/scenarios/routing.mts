// The routing step with payload filters (docs/filters.md): 1,000 endpoints of
// one partner, all subscribed to every type, decided for each status event:
// as the decision was before payload filters existed (the baseline of "no
// cost when absent"), and by delivery's own `receivesEvent` without payload
// filters and with a filter on each (one course, a price range, phases with a
// $not, an $or of courses), in the same run, rounds alternating so that other
// work on the machine falls on all three alike. In process, with no platform: the figure is
// the CPU the decision costs per event, not a delivery's.
import { compilePayloadFilter, parsePayloadFilter, receivesEvent, type RoutingCandidate } from '@gancho/delivery-domain';
import { eventTypeOf, examplePayload, matchesEventTypeFilter, purchaseStatuses, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { round } from '../proc-stats.mts';
import type { ScenarioModule } from './scenario.mts';

const endpointCount = 1000;
const eventCount = 1000;
const rounds = 30;

/** The filters of the common cases, cycled over the endpoints; each names a course or a bound of its own. */
function filterOf(i: number): Record<string, unknown> {
  switch (i % 4) {
    case 0:
      return { 'course.id': `crs_${i % 50}` };
    case 1:
      return { 'course.price_cents': { $gte: (i % 20) * 50_000 }, phase: 'won' };
    case 2:
      return { phase: { $in: ['open', 'lost'] }, $not: { status: 'logged' } };
    default:
      return { $or: [{ 'course.id': `crs_${i % 50}` }, { 'course.id': `crs_${(i + 1) % 50}` }], 'course.price_cents': { $lt: 1_000_000 } };
  }
}

function events(): { type: string; data: PurchaseStatusEventV1 }[] {
  return Array.from({ length: eventCount }, (_, i) => {
    const status = purchaseStatuses[i % purchaseStatuses.length] ?? 'logged';
    const type = eventTypeOf(status);
    const data = { ...examplePayload(type).data, course: { id: `crs_${i % 50}`, name: 'Curso', price_cents: (i % 40) * 25_000, currency: 'BRL' } };
    return { type, data };
  });
}

type Decide = (endpoint: RoutingCandidate, type: string, data: unknown) => boolean;

/** The decision as it was before payload filters (enabled, and the event-type filter): the baseline of "no cost when absent". */
const beforeFilters: Decide = (endpoint, type) => endpoint.state.enabled && matchesEventTypeFilter(endpoint.state.event_types, type);

/** Nanoseconds per event over all endpoints, and how many deliveries the decisions made. */
function timeRound(endpoints: readonly RoutingCandidate[], stream: ReturnType<typeof events>, decide: Decide = receivesEvent): { nsPerEvent: number; routed: number } {
  let routed = 0;
  const started = process.hrtime.bigint();
  for (const event of stream) for (const endpoint of endpoints) if (decide(endpoint, event.type, event.data)) routed += 1;
  const ns = Number(process.hrtime.bigint() - started);
  return { nsPerEvent: ns / stream.length, routed };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export const routingScenarios: ScenarioModule = {
  stage: 'machine',
  names: ['routing-filters'],
  sharedInfra: false,
  async run(bench) {
    const { say, results, elapsed } = bench;
    // As the endpoint directory builds them: `matches` always a property, undefined without a filter (one object shape).
    const unfiltered: RoutingCandidate[] = Array.from({ length: endpointCount }, () => ({ state: { enabled: true, event_types: ['purchase.*'] }, matches: undefined }));
    const filtered: RoutingCandidate[] = unfiltered.map((endpoint, i) => {
      const parsed = parsePayloadFilter(filterOf(i));
      if (parsed.filter === undefined) throw new Error(`bench filter ${i} is invalid: ${JSON.stringify(parsed.problems)}`);
      return { ...endpoint, matches: compilePayloadFilter(parsed.filter) };
    });
    const stream = events();
    // Warm-up: both paths compiled by V8 before anything is timed.
    for (let i = 0; i < 3; i += 1) {
      timeRound(unfiltered, stream, beforeFilters);
      timeRound(unfiltered, stream);
      timeRound(filtered, stream);
    }
    const before: number[] = [];
    const without: number[] = [];
    const withFilters: number[] = [];
    let routedWithout = 0;
    let routedWith = 0;
    for (let i = 0; i < rounds; i += 1) {
      before.push(timeRound(unfiltered, stream, beforeFilters).nsPerEvent);
      const a = timeRound(unfiltered, stream);
      const b = timeRound(filtered, stream);
      without.push(a.nsPerEvent);
      withFilters.push(b.nsPerEvent);
      routedWithout = a.routed;
      routedWith = b.routed;
    }
    const beforeUs = round(median(before) / 1000, 1);
    const withoutUs = round(median(without) / 1000, 1);
    const withUs = round(median(withFilters) / 1000, 1);
    say(
      `bench: routing-filters: ${endpointCount} endpoints, ${eventCount} events × ${rounds} rounds: ${beforeUs} µs per event with the decision as it was before filters, ${withoutUs} µs now without payload filters, ${withUs} µs with a filter on every endpoint (+${round(withUs - withoutUs, 1)} µs, ${round((median(withFilters) - median(without)) / endpointCount, 1)} ns per filtered endpoint); ${round(routedWith / eventCount, 1)} of ${endpointCount} endpoints routed per event with filters (${elapsed()})`,
    );
    results.push({
      name: 'routing-filters',
      description: `delivery's routing decision (receivesEvent) for ${endpointCount} endpoints of one partner, without payload filters and with one on each, alternating rounds in one process`,
      offered: `${eventCount} events × ${rounds} rounds`,
      deliveriesPerSecond: 0,
      latencyMs: { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
      processes: {},
      extra: {
        endpoints: endpointCount,
        routingMicrosPerEventBeforeFilters: beforeUs,
        routingMicrosPerEventWithoutFilters: withoutUs,
        routingMicrosPerEventWithFilters: withUs,
        nanosPerFilteredEndpoint: round((median(withFilters) - median(without)) / endpointCount, 1),
        routedPerEventWithoutFilters: routedWithout / eventCount,
        routedPerEventWithFilters: routedWith / eventCount,
        roundsMicrosBefore: before.map((ns) => round(ns / 1000, 1)),
        roundsMicrosWithout: without.map((ns) => round(ns / 1000, 1)),
        roundsMicrosWith: withFilters.map((ns) => round(ns / 1000, 1)),
      },
    });
  },
};
