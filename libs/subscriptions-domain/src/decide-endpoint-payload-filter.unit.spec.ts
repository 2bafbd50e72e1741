import { foldEndpoint, type EndpointEvent, type EndpointSettings } from './endpoint';
import { decideEndpoint, InvalidPayloadFilterError, type EndpointCommand } from './decide-endpoint';

// Scenarios (given events / when command / then events or refusal): a payload filter is checked against the event
// types the endpoint would subscribe to, when it is created, when the filter changes and when the event types
// change; an endpoint recorded before filters existed (no payloadFilter) takes one; null removes it.
const t0 = new Date('2026-11-27T12:00:00.000Z');
const settings: EndpointSettings = {
  url: 'https://hooks.escola.example/gancho',
  destination: { type: 'webhook' },
  description: '',
  eventTypes: ['purchase.paid'],
  headers: {},
  rateLimitPerSecond: null,
  ordering: 'none',
  includePersonalData: true,
};
const createdWith = (payloadFilter?: EndpointSettings['payloadFilter']): EndpointEvent => ({
  type: 'EndpointCreated',
  data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings: { ...settings, ...(payloadFilter === undefined ? {} : { payloadFilter }) }, enabled: true, sealedSecret: 'v1.k.s', occurredAt: t0.toISOString() },
});
const update = (changes: Partial<EndpointSettings>): EndpointCommand => ({ type: 'UpdateEndpoint', data: { changes }, metadata: { now: t0 } });
const reasons = (run: () => unknown): string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidPayloadFilterError) return error.errors.map((e) => `${e.path} ${e.reason}`);
    throw error;
  }
  return [];
};

describe('endpoint decider: payload filters', () => {
  it('creates an endpoint with a filter that fits its event types, and refuses one that does not', () => {
    const create = (payloadFilter: EndpointSettings['payloadFilter']): EndpointCommand => ({
      type: 'CreateEndpoint',
      data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings: { ...settings, payloadFilter }, enabled: true, sealedSecret: 'v1.k.s' },
      metadata: { now: t0 },
    });
    expect(decideEndpoint(create({ 'course.price_cents': { $gt: 100000 } }), foldEndpoint([]))).toHaveLength(1);
    expect(reasons(() => decideEndpoint(create({ phase: 'won' }), foldEndpoint([])))).toEqual(['payload_filter.phase never_matches']);
    expect(reasons(() => decideEndpoint(create({ 'course.cost': 1 }), foldEndpoint([])))).toEqual(['payload_filter.course.cost unknown_field']);
  });

  it('re-checks the filter when only the event types change', () => {
    const state = foldEndpoint([createdWith({ status: 'paid' })]);
    expect(reasons(() => decideEndpoint(update({ eventTypes: ['purchase.logged'] }), state))).toEqual(['payload_filter.status never_matches']);
    expect(decideEndpoint(update({ eventTypes: ['purchase.paid', 'purchase.logged'] }), state)).toHaveLength(1);
  });

  it('takes a filter on an endpoint recorded before filters existed, and removes one with null', () => {
    const before = foldEndpoint([createdWith()]);
    const [added] = decideEndpoint(update({ payloadFilter: { 'course.id': 'crs_1' } }), before);
    expect(added).toMatchObject({ type: 'EndpointUpdated', data: { changes: { payloadFilter: { 'course.id': 'crs_1' } } } });
    const filtered = foldEndpoint([createdWith({ 'course.id': 'crs_1' })]);
    expect(decideEndpoint(update({ payloadFilter: null }), filtered)).toMatchObject([{ type: 'EndpointUpdated', data: { changes: { payloadFilter: null } } }]);
    // The same filter again changes nothing.
    expect(decideEndpoint(update({ payloadFilter: { 'course.id': 'crs_1' } }), filtered)).toEqual([]);
  });
});
