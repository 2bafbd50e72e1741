import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  eventTypes as contractEventTypes,
  examplePayload,
  exampleWebhookPayload,
  webhookPayloadSchema,
  type EventType as ContractEventType,
  type PurchaseStatus as ContractPurchaseStatus,
  type WebhookCourse,
  type WebhookStudent,
} from '@gancho/contracts';
import { eventTypes, type Course, type EventType, type PurchaseStatus, type Student, type WebhookEvent, type WebhookEventOf } from '../src/generated/event-types';
import { renderEventTypes } from './render-event-types.cjs';

// Scenarios:
// - The committed src/generated/event-types.ts is exactly what the generator renders from today's schemas
//   (fails when a schema changes and nobody ran `npm run generate -w @gancho/webhooks`).
// - A change to one schema changes the rendering (the comparison can fail).
// - The generated types cover every event type, and each type's example payload is accepted by its generated type.

const generatedFile = path.join(__dirname, '..', 'src', 'generated', 'event-types.ts');
const schemas = () => contractEventTypes.map((type) => ({ type, schema: webhookPayloadSchema(type) }));

describe('generated event types', () => {
  it('are up to date with the JSON Schemas of @gancho/contracts (run `npm run generate -w @gancho/webhooks` when not)', () => {
    expect(readFileSync(generatedFile, 'utf8')).toBe(renderEventTypes(schemas()));
  });

  it('change when a schema changes', () => {
    const changed = schemas().map((entry) => (entry.type === 'purchase.made_effective' ? { ...entry, schema: { ...entry.schema, required: ['type', 'data'] } } : entry));
    const rendered = renderEventTypes(changed);
    expect(rendered).not.toBe(renderEventTypes(schemas()));
    expect(rendered).toContain('timestamp?: string;');
  });

  it('list every event type of the catalog, in order', () => {
    expect([...eventTypes]).toEqual([...contractEventTypes]);
  });

  it('match the contract types exactly (compile-time checks, enforced by typecheck), and narrow on type', () => {
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    const sameEventTypes: Same<EventType, ContractEventType> = true;
    const sameStatuses: Same<PurchaseStatus, ContractPurchaseStatus> = true;
    const sameCourse: Same<Course, WebhookCourse> = true;
    const sameStudent: Same<Student, WebhookStudent> = true;
    const sameData: Same<Omit<WebhookEvent['data'], 'status' | 'phase'>, Omit<ReturnType<typeof exampleWebhookPayload>['data'], 'status' | 'phase'>> = true;
    expect([sameEventTypes, sameStatuses, sameCourse, sameStudent, sameData]).toEqual([true, true, true, true, true]);
    const madeEffective: WebhookEventOf<'purchase.made_effective'> = {
      ...examplePayload('purchase.made_effective'),
      type: 'purchase.made_effective',
      data: { ...examplePayload('purchase.made_effective').data, status: 'made_effective', phase: 'won' },
    };
    // @ts-expect-error a made_effective event cannot carry another status
    const wrong: WebhookEventOf<'purchase.made_effective'> = { ...madeEffective, data: { ...madeEffective.data, status: 'denied' } };
    expect(wrong.data.status).toBe('denied');
  });
});
