import { CloudEvent, Kafka } from 'cloudevents';
import { cloudEventSources, cloudEventTypes, describeRecordEvent, InvalidCloudEventError, legacyEventHeaders, readCloudEventAttributes, toCloudEventsRecord, type CloudEventsRecord } from './cloudevents-kafka';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function endpointRecord(overrides: Partial<CloudEventsRecord> = {}): CloudEventsRecord {
  return {
    id: '6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10',
    type: cloudEventTypes.endpointState,
    source: cloudEventSources.subscriptions,
    time: new Date('2026-11-27T19:28:47.123Z'),
    subject: 'ep_01',
    data: { endpoint_id: 'ep_01', version: 2 },
    ...overrides,
  };
}

/** The SDK's reading of a message (binary mode), as a consumer with the `cloudevents` package gets it. */
function sdkEvent(message: { key: string; value: string; headers: Record<string, string> }): CloudEvent<unknown> {
  const event = Kafka.toEvent({ ...message, body: message.value });
  if (Array.isArray(event)) throw new Error('expected one event, got a batch');
  return event as CloudEvent<unknown>;
}

/**
 * The SDK's Kafka reader refuses a tombstone (no value), so a tombstone's
 * attributes are checked by building the SDK's event from its ce_ headers
 * (the constructor validates them against the spec).
 */
function sdkEventOfHeaders(headers: Record<string, string>): CloudEvent<unknown> {
  const attributes = Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith('ce_'))
      .map(([name, value]) => [name.slice(3), value]),
  );
  return new CloudEvent(attributes as never, true);
}

describe('CloudEvents records of any topic (binary mode)', () => {
  it('writes the attributes as ce_ headers, the data as the value and the subject as the key', () => {
    const message = toCloudEventsRecord(endpointRecord({ traceparent }));
    expect(message).toEqual({
      key: 'ep_01',
      value: '{"endpoint_id":"ep_01","version":2}',
      headers: {
        ce_specversion: '1.0',
        ce_id: '6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10',
        ce_type: 'subscriptions.endpoint_state',
        ce_source: '/gancho/subscriptions',
        ce_time: '2026-11-27T19:28:47.123Z',
        ce_subject: 'ep_01',
        'content-type': 'application/json',
        traceparent,
      },
    });
    const event = sdkEvent(message);
    expect(event.validate()).toBe(true);
    expect([event.id, event.type, event.source, event.subject, event.time]).toEqual(['6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10', 'subscriptions.endpoint_state', '/gancho/subscriptions', 'ep_01', '2026-11-27T19:28:47.123Z']);
    expect(event.data).toEqual({ endpoint_id: 'ep_01', version: 2 });
  });

  it('writes a tombstone as an empty value without a content type, still a valid CloudEvent', () => {
    const message = toCloudEventsRecord(endpointRecord({ data: null }));
    expect(message.value).toBe('');
    expect(message.headers['content-type']).toBeUndefined();
    expect(() => sdkEvent(message)).toThrow('Value is null or undefined');
    expect(sdkEventOfHeaders(message.headers).validate()).toBe(true);
  });

  it('writes the headers of release v0.1.0 beside the ce_ ones when asked (the compatibility window)', () => {
    const message = toCloudEventsRecord(endpointRecord({ data: null, legacyType: 'EndpointDeleted' }));
    expect(message.headers).toMatchObject({
      ce_id: '6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10',
      'gancho-event-id': '6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10',
      'gancho-event-type': 'EndpointDeleted',
      'content-type': 'application/json',
    });
    expect(sdkEventOfHeaders(message.headers).validate()).toBe(true);
  });

  it.each([
    ['an empty id', { id: '' }, 'id is empty'],
    ['an empty subject', { subject: '' }, 'subject is empty'],
    ['a time that is not RFC 3339', { time: 'soon' }, 'not RFC 3339'],
  ] as const)('refuses to write %s', (_name, overrides, mention) => {
    expect(() => toCloudEventsRecord(endpointRecord(overrides))).toThrow(mention);
  });
});

describe('readCloudEventAttributes', () => {
  const current = toCloudEventsRecord(endpointRecord({ legacyType: 'EndpointUpdated', traceparent }));
  /** A record as release v0.1.0 (commit 0644c4b) published it on the subscriptions topics. */
  const legacy = {
    headers: { 'content-type': 'application/json', [legacyEventHeaders.id]: 'evt-old', [legacyEventHeaders.type]: 'EndpointCreated', traceparent },
  };

  it('reads the ce_ headers first, even beside the legacy ones', () => {
    expect(readCloudEventAttributes(current)).toEqual({
      id: '6f1c2a7e-3b1d-4a8e-9c55-0d2e4f6a8b10',
      type: 'subscriptions.endpoint_state',
      source: '/gancho/subscriptions',
      time: '2026-11-27T19:28:47.123Z',
      subject: 'ep_01',
      traceparent,
      headers: 'cloudevents',
    });
  });

  it('reads a record of an older producer from its legacy headers, as kafkajs hands them over (Buffers)', () => {
    const asBuffers = { headers: Object.fromEntries(Object.entries(legacy.headers).map(([name, value]) => [name, Buffer.from(value)])) };
    expect(readCloudEventAttributes(asBuffers)).toEqual({ id: 'evt-old', type: 'EndpointCreated', traceparent, headers: 'legacy' });
    expect(describeRecordEvent(asBuffers)).toBe('event evt-old (EndpointCreated, headers of an older producer)');
  });

  it('refuses a record with neither, or with incomplete ce_ headers', () => {
    expect(() => readCloudEventAttributes({ headers: { 'content-type': 'application/json' } })).toThrow(InvalidCloudEventError);
    const { ce_source: _source, ...withoutSource } = current.headers;
    expect(() => readCloudEventAttributes({ headers: withoutSource })).toThrow('ce_source');
    expect(() => readCloudEventAttributes({ headers: { ...current.headers, ce_specversion: '0.3' } })).toThrow('ce_specversion');
    expect(describeRecordEvent({ headers: {} })).toMatch(/^no event headers/);
  });
});
