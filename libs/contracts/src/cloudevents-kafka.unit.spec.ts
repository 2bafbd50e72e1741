import { CloudEvent, Kafka } from 'cloudevents';
import { fromCloudEventsKafkaMessage, InvalidCloudEventError, toCloudEventsKafkaMessage, type IncomingKafkaMessage, type PurchaseStatusCloudEvent } from './cloudevents-kafka';
import { examplePayload } from './webhook-payload';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function statusEvent(overrides: Partial<PurchaseStatusCloudEvent> = {}): PurchaseStatusCloudEvent {
  const { data } = examplePayload('purchase.waiting_payment');
  return {
    eventId: 'evt_01JDZ9A1B2C3',
    type: 'purchase.waiting_payment',
    time: '2026-11-27T19:28:47.123Z',
    purchaseId: data.purchase_id,
    data,
    ...overrides,
  };
}

function refusal(message: IncomingKafkaMessage): InvalidCloudEventError {
  try {
    fromCloudEventsKafkaMessage(message);
  } catch (error) {
    if (error instanceof InvalidCloudEventError) return error;
    throw error;
  }
  throw new Error('the message was accepted');
}

describe('CloudEvents Kafka binding (binary mode)', () => {
  it('puts the attributes in ce_ headers, the data in the value and the purchase in the key', () => {
    const event = statusEvent({ traceparent, tracestate: 'gancho=1' });
    const message = toCloudEventsKafkaMessage(event);
    expect(message).toEqual({
      key: event.purchaseId,
      value: JSON.stringify(event.data),
      headers: {
        ce_specversion: '1.0',
        ce_id: 'evt_01JDZ9A1B2C3',
        ce_type: 'purchase.waiting_payment',
        ce_source: '/gancho/journey',
        ce_time: '2026-11-27T19:28:47.123Z',
        ce_subject: event.purchaseId,
        'content-type': 'application/json',
        traceparent,
        tracestate: 'gancho=1',
      },
    });
  });

  it('leaves out the trace headers when there is no trace', () => {
    const { headers } = toCloudEventsKafkaMessage(statusEvent());
    expect(Object.keys(headers)).not.toContain('traceparent');
    expect(Object.keys(headers)).not.toContain('tracestate');
  });

  it('writes a Date time as RFC 3339', () => {
    const message = toCloudEventsKafkaMessage({ ...statusEvent(), time: new Date(Date.UTC(2026, 10, 27, 19, 28, 47, 123)) });
    expect(message.headers['ce_time']).toBe('2026-11-27T19:28:47.123Z');
  });

  it('is read by the cloudevents SDK as a valid CloudEvent', () => {
    const message = toCloudEventsKafkaMessage(statusEvent({ traceparent }));
    const event = Kafka.toEvent({ ...message, body: message.value });
    if (Array.isArray(event)) throw new Error('expected one event, got a batch');
    expect(event).toBeInstanceOf(CloudEvent);
    expect((event as CloudEvent<unknown>).validate()).toBe(true);
    expect(event.specversion).toBe('1.0');
    expect(event.id).toBe('evt_01JDZ9A1B2C3');
    expect(event.type).toBe('purchase.waiting_payment');
    expect(event.source).toBe('/gancho/journey');
    expect(event.subject).toBe(statusEvent().purchaseId);
    expect(event.time).toBe('2026-11-27T19:28:47.123Z');
    expect(event.datacontenttype).toBe('application/json');
    expect(event.data).toEqual(statusEvent().data);
  });

  it('round-trips, with string or byte headers and values as kafkajs hands them over', () => {
    const event = statusEvent({ traceparent, tracestate: 'gancho=1' });
    const message = toCloudEventsKafkaMessage(event);
    expect(fromCloudEventsKafkaMessage(message)).toEqual(event);
    const asBuffers: IncomingKafkaMessage = {
      key: Buffer.from(message.key),
      value: Buffer.from(message.value),
      headers: Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, Buffer.from(value)])),
    };
    expect(fromCloudEventsKafkaMessage(asBuffers)).toEqual(event);
  });

  it('reads a message the cloudevents SDK wrote in binary mode', () => {
    const event = statusEvent();
    const sdkMessage = Kafka.binary(
      new CloudEvent({
        id: event.eventId,
        type: event.type,
        source: '/gancho/journey',
        subject: event.purchaseId,
        time: event.time,
        datacontenttype: 'application/json',
        data: event.data,
        partitionkey: event.purchaseId,
      }),
    );
    const read = fromCloudEventsKafkaMessage({
      key: sdkMessage.key as string,
      value: JSON.stringify(sdkMessage.value),
      headers: sdkMessage.headers as Record<string, string>,
    });
    expect(read).toEqual(event);
  });

  describe('refuses, with code INVALID_CLOUDEVENT,', () => {
    const good = toCloudEventsKafkaMessage(statusEvent());
    const without = (name: string): IncomingKafkaMessage => {
      const headers = { ...good.headers };
      delete headers[name];
      return { ...good, headers };
    };
    const withHeader = (name: string, value: string): IncomingKafkaMessage => ({
      ...good,
      headers: { ...good.headers, [name]: value },
    });

    it.each(['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', 'ce_subject', 'content-type'])('a message without %s', (name) => {
      const error = refusal(without(name));
      expect(error.code).toBe('INVALID_CLOUDEVENT');
      expect(error.message).toContain(name);
    });

    it.each([
      ['another spec version', withHeader('ce_specversion', '0.3'), 'ce_specversion'],
      ['an empty id', withHeader('ce_id', ''), 'ce_id'],
      ['an unknown type', withHeader('ce_type', 'purchase.teleported'), 'ce_type'],
      ['a type the data does not have', withHeader('ce_type', 'purchase.approved'), 'does not match type'],
      ['a time that is not RFC 3339', withHeader('ce_time', 'last tuesday'), 'ce_time'],
      ['a subject that is not the key', withHeader('ce_subject', 'pur_other'), 'ce_subject'],
      ['a content type that is not JSON', withHeader('content-type', 'text/plain'), 'content-type'],
      ['a value that is not JSON', { ...good, value: '{"purchase_id":' }, 'not JSON'],
      ['a missing value (a tombstone)', { ...good, value: null }, 'value is missing'],
      ['data with a field partners must not see', { ...good, value: JSON.stringify({ ...statusEvent().data, cost: 1 }) }, 'data.cost'],
      ['data without a course', { ...good, value: JSON.stringify({ ...statusEvent().data, course: undefined }) }, 'data.course'],
      ['a header given twice', { ...good, headers: { ...good.headers, ce_id: ['a', 'b'] } }, 'more than once'],
    ] as const)('%s', (_name, message, mention) => {
      const error = refusal(message as IncomingKafkaMessage);
      expect(error.code).toBe('INVALID_CLOUDEVENT');
      expect(error.message).toContain(mention);
    });

    it('to write an event whose data contradicts its type or subject', () => {
      expect(() => toCloudEventsKafkaMessage(statusEvent({ type: 'purchase.approved' }))).toThrow(InvalidCloudEventError);
      expect(() => toCloudEventsKafkaMessage(statusEvent({ purchaseId: 'pur_other' }))).toThrow(InvalidCloudEventError);
      expect(() => toCloudEventsKafkaMessage(statusEvent({ eventId: '' }))).toThrow(InvalidCloudEventError);
      expect(() => toCloudEventsKafkaMessage(statusEvent({ time: 'soon' }))).toThrow(InvalidCloudEventError);
    });
  });
});
