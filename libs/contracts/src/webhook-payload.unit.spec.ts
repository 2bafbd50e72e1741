import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { eventTypes, type EventType } from './event-types';
import { purchaseStatuses } from './status-catalog';
import {
  examplePayload,
  isEmailAddress,
  isPurchaseStatusEventV1,
  isRfc3339,
  toWebhookPayload,
  webhookPayloadProblems,
  webhookPayloadSchema,
  webhookSchemaVersion,
  type JsonSchema,
  type PurchaseWebhookPayload,
} from './webhook-payload';

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

const ajv = newAjv();
for (const type of eventTypes) ajv.addSchema(webhookPayloadSchema(type));

function validate(type: EventType, payload: unknown): boolean {
  const validator = ajv.getSchema(webhookPayloadSchema(type)['$id'] as string);
  if (!validator) throw new Error(`no schema for ${type}`);
  return validator(payload) as boolean;
}

/** ajv and our own checker must agree; returns the verdict. */
function verdict(type: EventType, payload: unknown): boolean {
  const byAjv = validate(type, payload);
  const ours = webhookPayloadProblems(payload).length === 0 && (payload as PurchaseWebhookPayload).type === type;
  expect({ ours }).toEqual({ ours: byAjv });
  return byAjv;
}

type Mutable = Record<string, unknown>;
const clone = <T>(value: T): T => structuredClone(value);

/** Paths to every property of the example, one level per object. */
const objectPaths: readonly (readonly string[])[] = [[], ['data'], ['data', 'course'], ['data', 'student']];

function at(payload: Mutable, path: readonly string[]): Mutable {
  return path.reduce<Mutable>((node, key) => node[key] as Mutable, payload);
}

describe('webhook payload schemas', () => {
  it.each(eventTypes)('%s: a versioned draft 2020-12 schema whose example validates', (type) => {
    const schema = webhookPayloadSchema(type);
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toBe(`https://schemas.gancho.dev/webhooks/${type}/v${webhookSchemaVersion}.json`);
    expect(verdict(type, examplePayload(type))).toBe(true);
  });

  it('publishes version 1 at the documented address', () => {
    expect(webhookPayloadSchema('purchase.made_effective')['$id']).toBe('https://schemas.gancho.dev/webhooks/purchase.made_effective/v1.json');
  });

  it('closes every object of every schema', () => {
    const open: string[] = [];
    const walk = (node: JsonSchema, where: string): void => {
      if (node['type'] === 'object' && node['additionalProperties'] !== false) open.push(where);
      const properties = node['properties'];
      if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
        for (const [name, child] of Object.entries(properties)) walk(child as JsonSchema, `${where}.${name}`);
      }
    };
    for (const type of eventTypes) walk(webhookPayloadSchema(type), type);
    expect(open).toEqual([]);
  });

  it('pins type, status and phase to the event type', () => {
    const data = (webhookPayloadSchema('purchase.waiting_payment')['properties'] as Record<string, JsonSchema>)['data'];
    const properties = data?.['properties'] as Record<string, JsonSchema>;
    expect(properties['status']).toEqual({ const: 'waiting_payment' });
    expect(properties['phase']).toEqual({ const: 'waiting_for_conclusion' });
  });

  it('gives a fresh schema on every call', () => {
    const first = webhookPayloadSchema('purchase.paid');
    first['title'] = 'changed';
    expect(webhookPayloadSchema('purchase.paid')['title']).not.toBe('changed');
  });
});

describe('webhook payloads refused by the schema (and by our own checker)', () => {
  const type: EventType = 'purchase.waiting_payment';

  it.each(objectPaths.map((path) => [path.join('.') || '(root)', path] as const))('an extra field at %s', (_name, path) => {
    const payload = clone(examplePayload(type)) as unknown as Mutable;
    at(payload, path)['internal_note'] = 'not for partners';
    expect(verdict(type, payload)).toBe(false);
  });

  // The student's fields are optional (LGPD: left out for an endpoint without personal data, and once erased).
  const requiredFields = objectPaths.flatMap((path) => (path.join('.') === 'data.student' ? [] : Object.keys(at(clone(examplePayload(type)) as unknown as Mutable, path)).map((key) => [...path, key])));

  it.each([
    ['with its id', { id: 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b', name: 'Maria Silva', email: 'maria.silva@example.com' }, true],
    ['by id only', { id: 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b' }, true],
    ['erased', { id: 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b', erased: true }, true],
    ['erased: false', { id: 'sub_5d0c6b1e9a2f4e8d7c3b1a0f9e8d7c6b', erased: false }, false],
    ['an id that is not a subject id', { id: 'maria.silva@example.com' }, false],
  ])('a student %s', (_name, student, valid) => {
    const payload = clone(examplePayload(type)) as unknown as Mutable;
    (payload['data'] as Mutable)['student'] = student as unknown as Mutable;
    expect(verdict(type, payload)).toBe(valid);
  });

  it.each(requiredFields.map((path) => [path.join('.'), path] as const))('a missing %s', (_name, path) => {
    const payload = clone(examplePayload(type)) as unknown as Mutable;
    delete at(payload, path.slice(0, -1))[path[path.length - 1] as string];
    expect(verdict(type, payload)).toBe(false);
  });

  it.each(purchaseStatuses.filter((status) => status !== 'waiting_payment'))('status %s under type purchase.waiting_payment', (status) => {
    const payload = clone(examplePayload(type));
    payload.data.status = status;
    expect(verdict(type, payload)).toBe(false);
  });

  it('a phase that is not the status phase', () => {
    const payload = clone(examplePayload(type));
    payload.data.phase = 'open';
    expect(verdict(type, payload)).toBe(false);
  });

  it('another type than the schema one', () => {
    const payload = clone(examplePayload(type));
    payload.type = 'purchase.approved';
    payload.data.status = 'approved';
    expect(validate(type, payload)).toBe(false);
    expect(validate('purchase.approved', payload)).toBe(true);
  });

  const badValues: readonly [string, readonly string[], unknown][] = [
    ['an unknown previous status', ['data', 'previous_status'], 'nowhere'],
    ['a sequence of 0', ['data', 'sequence'], 0],
    ['a fractional sequence', ['data', 'sequence'], 1.5],
    ['a negative price', ['data', 'course', 'price_cents'], -1],
    ['a fractional price', ['data', 'course', 'price_cents'], 10.5],
    ['a price as a string', ['data', 'course', 'price_cents'], '1234500'],
    ['a lower-case currency', ['data', 'course', 'currency'], 'brl'],
    ['an e-mail without a domain', ['data', 'student', 'email'], 'maria@'],
    ['an empty purchase id', ['data', 'purchase_id'], ''],
    ['an empty student name', ['data', 'student', 'name'], ''],
    ['a date without time zone', ['data', 'occurred_at'], '2026-11-27T19:28:47'],
    ['an impossible date', ['timestamp'], '2026-02-30T10:00:00Z'],
    ['a date in words', ['timestamp'], 'yesterday'],
    ['a null course', ['data', 'course'], null],
  ];

  it.each(badValues)('%s', (_name, path, value) => {
    const payload = clone(examplePayload(type)) as unknown as Mutable;
    at(payload, path.slice(0, -1))[path[path.length - 1] as string] = value;
    expect(verdict(type, payload)).toBe(false);
  });

  it('accepts a first status with no previous status', () => {
    const payload = clone(examplePayload('purchase.not_logged'));
    expect(payload.data.previous_status).toBeNull();
    expect(verdict('purchase.not_logged', payload)).toBe(true);
  });
});

describe('payload helpers', () => {
  it('build the webhook body from a status event without reshaping it', () => {
    const { data } = examplePayload('purchase.paid');
    expect(toWebhookPayload(data)).toEqual({ type: 'purchase.paid', timestamp: data.occurred_at, data });
    expect(toWebhookPayload(data, '2027-01-01T00:00:00.000Z').timestamp).toBe('2027-01-01T00:00:00.000Z');
  });

  it('tell a status event from other values', () => {
    expect(isPurchaseStatusEventV1(examplePayload('purchase.paid').data)).toBe(true);
    expect(isPurchaseStatusEventV1(examplePayload('purchase.paid'))).toBe(false);
    expect(isPurchaseStatusEventV1(null)).toBe(false);
  });

  it.each([
    '2026-11-27T19:28:47.123Z',
    '2026-11-27T19:28:47Z',
    '2026-11-27T19:28:47+03:00',
    '2024-02-29T00:00:00Z',
    '2026-11-27T19:28:47',
    '2026-02-29T00:00:00Z',
    '2026-11-27T24:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-27 19:28:47Z',
  ])('judges %p as a date-time as ajv-formats does', (value) => {
    expect(isRfc3339(value)).toBe(ajv.validate({ type: 'string', format: 'date-time' }, value));
  });

  it.each(['maria.silva@example.com', 'a+b@sub.example.co', 'maria@', '@example.com', 'maria@example', 'maria silva@example.com'])('judges %p as an e-mail address as ajv-formats does', (value) => {
    expect(isEmailAddress(value)).toBe(ajv.validate({ type: 'string', format: 'email' }, value));
  });
});
