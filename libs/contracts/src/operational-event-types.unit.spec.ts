import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { eventTypes, matchesEventTypeFilter } from './event-types';
import {
  exampleOperationalPayload,
  isOperationalFilterEntry,
  matchesOperationalEventType,
  operationalEventTypes,
  operationalEventTypesOf,
  operationalWebhookSchema,
  toOperationalWebhookPayload,
} from './operational-event-types';

describe('operational event types', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);

  it.each(operationalEventTypes)('%s has a closed schema its example satisfies', (type) => {
    const validate = ajv.compile(operationalWebhookSchema(type));
    expect(validate(exampleOperationalPayload(type))).toBe(true);
    const extra = { ...exampleOperationalPayload(type), data: { ...exampleOperationalPayload(type).data, student: 'x' } };
    expect(validate(extra)).toBe(false);
    expect(validate({ ...exampleOperationalPayload(type), type: 'purchase.paid' })).toBe(false);
  });

  it('are no purchase event types, and none of them is in the purchase catalog', () => {
    for (const type of operationalEventTypes) expect(eventTypes).not.toContain(type);
  });

  it('are received only when a filter names them: exactly or by endpoint.* / message.*, never by * or purchase.*', () => {
    expect(operationalEventTypesOf(['*'])).toEqual([]);
    expect(operationalEventTypesOf(['purchase.*'])).toEqual([]);
    expect(operationalEventTypesOf(['purchase.*', 'endpoint.disabled'])).toEqual(['endpoint.disabled']);
    expect(operationalEventTypesOf(['endpoint.*'])).toEqual(['endpoint.disabled', 'endpoint.enabled', 'endpoint.recovered', 'endpoint.secret_rotation_ending']);
    expect(operationalEventTypesOf(['message.*'])).toEqual(['message.exhausted']);
    expect(matchesOperationalEventType(['endpoint.disabledx'], 'endpoint.disabled')).toBe(false);
    expect(matchesOperationalEventType(['endpoint.dis*'], 'endpoint.disabled')).toBe(false);
  });

  it('leave purchase routing as it was: an operational entry matches no purchase event', () => {
    for (const type of eventTypes) expect(matchesEventTypeFilter(['endpoint.*', 'message.exhausted'], type)).toBe(false);
  });

  it('tell filter entries that name them from others', () => {
    expect(['endpoint.disabled', 'endpoint.*', 'message.*', 'message.exhausted'].every(isOperationalFilterEntry)).toBe(true);
    expect(['*', 'purchase.*', 'endpoint', 'endpoint.', 'endpoint.unknown', 'message.sent'].some(isOperationalFilterEntry)).toBe(false);
  });

  it('are timestamped with the time in their data', () => {
    const data = exampleOperationalPayload('endpoint.enabled').data;
    expect(toOperationalWebhookPayload('endpoint.enabled', { ...data, enabled_at: '2026-12-01T00:00:00.000Z' }).timestamp).toBe('2026-12-01T00:00:00.000Z');
  });
});
