import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  applyAcknowledgements,
  eventSchemaBreaks,
  formatBreak,
  openApiBreaks,
  releaseBreaks,
  topicBreaks,
  topicSnapshotOf,
  versionOf,
  type Break,
  type ContractSet,
  type Json,
  type TopicContractSnapshot,
} from './compatibility.mts';

const fixtures = path.join(__dirname, 'fixtures');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Json;

interface FixtureCase {
  kind: 'topic' | 'webhook' | 'openapi' | 'release';
  why: string;
  rule?: string;
  breaks?: string;
}

function breaksOf(kind: FixtureCase['kind'], old: Json, now: Json): Break[] {
  switch (kind) {
    case 'topic':
      return topicBreaks(old as unknown as TopicContractSnapshot, now as unknown as TopicContractSnapshot);
    case 'webhook':
      return eventSchemaBreaks('webhook', old, now);
    case 'openapi':
      return openApiBreaks('fixture OpenAPI', old, now).breaks;
    case 'release':
      return releaseBreaks(old as unknown as ContractSet, now as unknown as ContractSet).breaks;
    default: {
      const _exhaustive: never = kind;
      throw new Error(`unknown fixture kind ${String(_exhaustive)}`);
    }
  }
}

const casesIn = (folder: string) =>
  readdirSync(path.join(fixtures, folder)).map((name) => {
    const dir = path.join(fixtures, folder, name);
    return { name, spec: read(path.join(dir, 'case.json')) as unknown as FixtureCase, old: read(path.join(dir, 'old.json')), now: read(path.join(dir, 'new.json')) };
  });

describe('compatibility gate fixtures', () => {
  const breaking = casesIn('breaks');
  const compatible = casesIn('compatible');

  it('has a breaking fixture for every kind of contract', () => {
    expect(new Set(breaking.map((c) => c.spec.kind))).toEqual(new Set(['topic', 'webhook', 'openapi', 'release']));
  });

  it.each(breaking.map((c) => [c.name, c] as const))('%s fails with its named reason', (_name, c) => {
    const found = breaksOf(c.spec.kind, c.old, c.now);
    expect(found.map((b) => `${b.rule} (${b.breaks})`)).toContain(`${c.spec.rule} (${c.spec.breaks})`);
  });

  it.each(compatible.map((c) => [c.name, c] as const))('%s passes', (_name, c) => {
    expect(breaksOf(c.spec.kind, c.old, c.now).map(formatBreak)).toEqual([]);
  });

  it.each([...breaking, ...compatible].map((c) => [c.name, c] as const))('%s: a contract compared with itself passes', (_name, c) => {
    expect(breaksOf(c.spec.kind, c.old, c.old)).toEqual([]);
    expect(breaksOf(c.spec.kind, c.now, c.now)).toEqual([]);
  });
});

describe('compatibility rules', () => {
  const object = (properties: Record<string, Json>, required: string[], closed = true): Json => ({ type: 'object', properties, required, ...(closed ? { additionalProperties: false } : {}) });

  it('judges events in both directions: old consumers read new values, new consumers read old records', () => {
    const old = object({ a: { type: 'string' } }, ['a'], false);
    const grown = object({ a: { type: 'string' }, b: { type: 'string' } }, ['a', 'b'], false);
    expect(eventSchemaBreaks('t', old, grown).map((b) => [b.rule, b.breaks])).toEqual([['field-now-required', 'old producers']]);
    expect(eventSchemaBreaks('t', grown, old).map((b) => [b.rule, b.breaks])).toEqual([['field-removed', 'old consumers']]);
  });

  it('judges request bodies by old clients only: a wider request passes, a narrower one fails', () => {
    const doc = (schema: Json): Json => ({ openapi: '3.0.0', paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema } } }, responses: { '200': { description: 'ok' } } } } } });
    const narrow = object({ a: { type: 'string' } }, ['a']);
    const wide = object({ a: { type: 'string' }, b: { type: 'string' } }, ['a']);
    expect(openApiBreaks('x', doc(narrow), doc(wide)).breaks).toEqual([]);
    expect(openApiBreaks('x', doc(wide), doc(narrow)).breaks.map((b) => [b.rule, b.at])).toEqual([['field-removed', 'POST /x request body application/json.b']]);
  });

  it('judges responses by what old clients were promised: a response may gain a field on an open object, not lose one', () => {
    const doc = (schema: Json): Json => ({ openapi: '3.0.0', paths: { '/x': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema } } } } } } } });
    const small = object({ a: { type: 'string' } }, ['a'], false);
    const big = object({ a: { type: 'string' }, b: { type: 'string' } }, ['a', 'b'], false);
    expect(openApiBreaks('x', doc(small), doc(big)).breaks).toEqual([]);
    expect(openApiBreaks('x', doc(big), doc(small)).breaks.map((b) => b.rule)).toEqual(['field-removed']);
  });

  it('reads OpenAPI 3.0 nullable, allOf, anyOf and $ref', () => {
    const released: Json = { components: { schemas: { Id: { type: 'string' } } }, type: 'object', properties: { id: { allOf: [{ $ref: '#/components/schemas/Id' }], nullable: true } } };
    const sameInOtherWords: Json = { type: 'object', properties: { id: { anyOf: [{ type: 'string' }, { type: 'null' }] } } };
    expect(eventSchemaBreaks('t', released, sameInOtherWords)).toEqual([]);
    const withoutNull: Json = { type: 'object', properties: { id: { type: 'string' } } };
    expect(eventSchemaBreaks('t', released, withoutNull).map((b) => [b.rule, b.breaks, b.at])).toEqual([['type-narrowed', 'old producers', '.id']]);
  });

  it('accepts an integer where a number was read, not the other way round', () => {
    expect(eventSchemaBreaks('t', { type: 'number' }, { type: 'integer' }).map((b) => [b.rule, b.breaks])).toEqual([['type-narrowed', 'old producers']]);
  });

  it('checks constants against the reader: a constant that still fits passes, one that does not fails', () => {
    expect(eventSchemaBreaks('t', { type: 'string', pattern: '^purchase\\.' }, { const: 'purchase.logged' }).map((b) => [b.rule, b.breaks])).toEqual([['enum-narrowed', 'old producers']]);
    expect(eventSchemaBreaks('t', { const: 'purchase.logged' }, { const: 'purchase.logged', description: 'x' })).toEqual([]);
  });

  it('sees a "none of these characters" pattern that forbids fewer characters as wider, one that forbids more as narrower', () => {
    const withoutCommaOrNul = { type: 'string', pattern: '^[^,\\u0000]*$' };
    const withoutComma = { type: 'string', pattern: '^[^,]*$' };
    const request = (schema: Json): Json => ({ paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema } } }, responses: {} } } } });
    expect(openApiBreaks('x', request(withoutCommaOrNul), request(withoutComma)).breaks).toEqual([]);
    expect(openApiBreaks('x', request(withoutComma), request(withoutCommaOrNul)).breaks.map((b) => b.rule)).toEqual(['constraint-narrowed']);
    expect(openApiBreaks('x', request(withoutComma), request({ type: 'string', pattern: '^[^a-z]*$' })).breaks.map((b) => b.rule)).toEqual(['constraint-narrowed']);
  });

  it('reports a keyword it cannot reason about instead of assuming it safe', () => {
    expect(eventSchemaBreaks('t', { type: 'object' }, { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }).map((b) => b.rule)).toEqual(['schema-keyword-changed']);
  });

  it('names versions of topics and webhook schema ids', () => {
    expect(versionOf('journey.purchase-status.v1')).toEqual({ base: 'journey.purchase-status', version: 1 });
    expect(versionOf('https://schemas.gancho.dev/webhooks/purchase.logged/v2.json')).toEqual({ base: 'https://schemas.gancho.dev/webhooks/purchase.logged', version: 2 });
    expect(versionOf('no-version')).toBeUndefined();
  });

  it('lets a webhook payload version go only after a release that carried its successor', () => {
    const v1 = 'https://schemas.gancho.dev/webhooks/purchase.logged/v1.json';
    const v2 = 'https://schemas.gancho.dev/webhooks/purchase.logged/v2.json';
    const set = (ids: string[]): ContractSet => ({ topics: {}, openapi: {}, webhooks: Object.fromEntries(ids.map((id) => [id, { $id: id }])) });
    expect(releaseBreaks(set([v1]), set([v2])).breaks.map((b) => [b.rule, b.contract])).toEqual([['contract-removed', v1]]);
    expect(releaseBreaks(set([v1]), set([v1, v2])).breaks).toEqual([]);
    expect(releaseBreaks(set([v1, v2]), set([v2])).breaks).toEqual([]);
  });

  it('judges old consumers by what they read and old producers by what they wrote (valueSchemaAsRead)', () => {
    const wrote = object({ a: { type: 'string' } }, ['a']);
    const read = object({ a: { type: 'string' } }, ['a'], false);
    const grown = object({ a: { type: 'string' }, b: { type: 'string' } }, ['a']);
    const topic = (valueSchema: Json, valueSchemaAsRead?: Json) =>
      topicSnapshotOf({
        topic: 't.v1',
        key: { valueField: 'a', schema: { type: 'string' }, description: 'x' },
        valueSchema,
        ...(valueSchemaAsRead ? { valueSchemaAsRead } : {}),
        headers: { type: 'object' },
        partitioning: { key: 'a', reason: 'prose' },
        compaction: { cleanupPolicy: 'delete', reason: 'prose' },
      });
    expect(topicBreaks(topic(wrote), topic(grown)).map((b) => b.rule)).toEqual(['field-added-to-closed-object']);
    expect(topicBreaks(topic(wrote, read), topic(grown))).toEqual([]);
  });

  it('lets an acknowledged break through only while it still matches one found', () => {
    const found: Break[] = [{ contract: 't.v1', at: 'headers.ce_id', rule: 'header-now-required', breaks: 'old producers', detail: '' }];
    const ack = { release: '0.1.0', rule: 'header-now-required' as const, contract: 't.v1', at: 'headers.ce_id', breaks: 'old producers' as const, why: 'readers fall back to the legacy header' };
    expect(applyAcknowledgements('0.1.0', found, [ack])).toEqual({ breaks: [], stale: [] });
    expect(applyAcknowledgements('0.1.0', [], [ack])).toEqual({ breaks: [], stale: [ack] });
    expect(applyAcknowledgements('0.2.0', found, [ack]).breaks).toEqual(found);
    expect(() => applyAcknowledgements('0.1.0', found, [{ ...ack, why: ' ' }])).toThrow(/needs a reason/);
  });
});
