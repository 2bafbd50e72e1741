// The compatibility rules of Gancho's released contracts, as pure functions:
// given what a release published and what the tree publishes today, the
// changes that would break someone still running (or written against) the
// release. No I/O; the gate test and the fixtures feed it documents.
//
// Direction is the whole idea. A change is judged by who writes a value and
// who reads it, and which side may still be old:
// - topic values and webhook bodies are written by Gancho and read by
//   consumers. New values must stay readable by old readers (analytics jobs,
//   partners, the other services mid-roll), and values old producers wrote
//   must stay readable by new readers (records retained on a topic and
//   replayed, an old pod publishing during a roll, a resent webhook whose
//   body was stored when it was first sent). So both directions.
// - HTTP request bodies and parameters are written by clients, maybe old
//   ones: what the release accepted must still be accepted.
// - HTTP responses are written by the service and read by old clients: what
//   it returns now must fit what the release promised.
// A check "values of W must be accepted by R" fails where W's schema allows a
// value R's schema rejects; every failure is a named rule.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = { [key: string]: Json };

export const rules = [
  // fields
  'field-removed',
  'field-made-optional',
  'field-now-required',
  'field-added-to-closed-object',
  'object-closed',
  // values
  'type-narrowed',
  'enum-narrowed',
  'enum-grown',
  'constraint-narrowed',
  'schema-keyword-changed',
  // topics
  'key-changed',
  'partitioning-changed',
  'compaction-changed',
  'header-removed',
  'header-now-required',
  // versions
  'contract-removed',
  // HTTP
  'operation-removed',
  'response-removed',
  'response-media-type-removed',
  'request-media-type-removed',
  'request-body-now-required',
  'parameter-removed',
  'parameter-now-required',
] as const;
export type Rule = (typeof rules)[number];

/** Who the change breaks. */
export type Party = 'old consumers' | 'old producers' | 'old clients';

export interface Break {
  /** The contract: a topic, a webhook schema id, or `<service> OpenAPI`. */
  contract: string;
  /** Where in it (a JSON path, or `POST /purchases request body .course`). */
  at: string;
  rule: Rule;
  breaks: Party;
  detail: string;
}

/** A value a release published, and the same contract today. */
interface Side {
  schema: Json | undefined;
  /** The document `$ref`s resolve in (an OpenAPI document; the schema itself otherwise). */
  root: Json | undefined;
}

interface Check {
  contract: string;
  breaks: Party;
  /** Whether the writer's side is today's (so a field missing from it was removed, not newly required). */
  writerIsNew: boolean;
  found: Break[];
}

const ignoredKeywords = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'examples',
  'example',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'x-examples',
  'externalDocs',
  '$defs',
  'definitions',
  'components',
  'discriminator',
  'xml',
]);
const handledKeywords = new Set([
  'type',
  'nullable',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'uniqueItems',
]);

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `#/components/schemas/X` in `root`; anything else is left unresolved (and compared as written). */
function resolve(schema: Json | undefined, root: Json | undefined, seen = new Set<string>()): Json | undefined {
  if (!isObject(schema) || typeof schema['$ref'] !== 'string') return schema;
  const ref = schema['$ref'];
  if (!ref.startsWith('#/') || seen.has(ref)) return schema;
  seen.add(ref);
  let target: Json | undefined = root;
  for (const part of ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')))
    target = isObject(target) ? target[part] : undefined;
  if (target === undefined) return schema;
  const { $ref: _ref, ...siblings } = schema;
  return resolve(isObject(target) ? { ...target, ...siblings } : target, root, seen);
}

/** One schema in a form the checks read: resolved, allOf merged, nullable and const folded into type and enum. */
function normalize(input: Json | undefined, root: Json | undefined): Schema | true | false {
  const resolved = resolve(input, root);
  if (resolved === undefined || resolved === true) return true;
  if (resolved === false) return false;
  if (!isObject(resolved)) return true;
  let schema: Schema = { ...resolved };
  if (Array.isArray(schema['allOf'])) {
    const { allOf, ...rest } = schema;
    schema = rest;
    for (const part of allOf as Json[]) {
      const member = normalize(part, root);
      if (member === false) return false;
      if (member === true) continue;
      const properties = { ...(isObject(schema['properties']) ? schema['properties'] : {}), ...(isObject(member['properties']) ? member['properties'] : {}) };
      const required = [...new Set([...stringsOf(schema['required']), ...stringsOf(member['required'])])];
      schema = { ...member, ...schema, properties, required };
    }
  }
  if ('const' in schema) {
    const { const: value, ...rest } = schema;
    schema = { ...rest, enum: [value as Json] };
  }
  if (typeof schema['type'] === 'string') schema['type'] = [schema['type']];
  if (schema['nullable'] === true) {
    const types = Array.isArray(schema['type']) ? (schema['type'] as string[]) : undefined;
    if (types && !types.includes('null')) schema['type'] = [...types, 'null'];
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(null)) schema['enum'] = [...schema['enum'], null];
  }
  delete schema['nullable'];
  return schema;
}

function stringsOf(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

const jsonTypeOf = (value: Json): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);

/** Types a schema allows: undefined for any. An enum alone limits them to its values' types. */
function typesOf(schema: Schema): Set<string> | undefined {
  if (Array.isArray(schema['type'])) return new Set(schema['type'] as string[]);
  if (Array.isArray(schema['enum'])) return new Set((schema['enum'] as Json[]).map(jsonTypeOf));
  return undefined;
}

function typeAccepted(type: string, readerTypes: Set<string> | undefined): boolean {
  return readerTypes === undefined || readerTypes.has(type) || (type === 'integer' && readerTypes.has('number'));
}

const mayBe = (types: Set<string> | undefined, type: string) => types === undefined || types.has(type) || (type === 'number' && types.has('integer'));

/** Whether a constant fits the reader's simple keywords (enough for the enums and constants our schemas carry). */
function valueAccepted(value: Json, reader: Schema): boolean {
  if (!typeAccepted(jsonTypeOf(value), typesOf(reader))) return false;
  if (Array.isArray(reader['enum']) && !(reader['enum'] as Json[]).some((v) => JSON.stringify(v) === JSON.stringify(value))) return false;
  if (typeof value === 'string') {
    if (typeof reader['pattern'] === 'string' && !new RegExp(reader['pattern'], 'u').test(value)) return false;
    if (typeof reader['minLength'] === 'number' && value.length < reader['minLength']) return false;
    if (typeof reader['maxLength'] === 'number' && value.length > reader['maxLength']) return false;
  }
  if (typeof value === 'number') {
    if (typeof reader['minimum'] === 'number' && value < reader['minimum']) return false;
    if (typeof reader['maximum'] === 'number' && value > reader['maximum']) return false;
  }
  return true;
}

/** The characters of `^[^…]*$` (a string without any of them), or undefined for any other pattern. */
function forbiddenCharacters(pattern: string): Set<string> | undefined {
  const match = /^\^\[\^((?:[^\]\\]|\\.)+)\]\*\$$/su.exec(pattern);
  if (!match) return undefined;
  const out = new Set<string>();
  const body = match[1] as string;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '-' && i > 0 && i < body.length - 1) return undefined; // a range: not worth reasoning about
    if (c !== '\\') {
      out.add(c);
      continue;
    }
    const next = body[++i];
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 1, i + 5))) {
      out.add(String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16)));
      i += 4;
    } else if (next !== undefined && /[\\\][^$.|?*+(){}/-]/.test(next)) out.add(next);
    else return undefined; // \d, \s, \x…: a class, not one character
  }
  return out;
}

/**
 * Whether every string matching `writer` matches `reader`: the same
 * pattern, or two "none of these characters" patterns where the reader
 * forbids no more than the writer. Anything else counts as narrower.
 */
function patternIncluded(writer: string, reader: string): boolean {
  if (writer === reader) return true;
  const writerForbids = forbiddenCharacters(writer);
  const readerForbids = forbiddenCharacters(reader);
  return writerForbids !== undefined && readerForbids !== undefined && [...readerForbids].every((c) => writerForbids.has(c));
}

const describe = (value: Json | undefined) => JSON.stringify(value) ?? 'nothing';

/**
 * Every way a value `writer` allows may be rejected by `reader`. Sound for the
 * keywords our schemas use; a keyword it does not reason about that differs
 * between the two is reported (schema-keyword-changed) rather than assumed safe.
 */
function checkSchema(writerInput: Side, readerInput: Side, at: string, check: Check): void {
  const writer = normalize(writerInput.schema, writerInput.root);
  const reader = normalize(readerInput.schema, readerInput.root);
  const report = (rule: Rule, detail: string) => check.found.push({ contract: check.contract, at: at || '(root)', rule, breaks: check.breaks, detail });
  if (reader === true || writer === false) return;
  if (reader === false || writer === true) {
    report('type-narrowed', 'the reader accepts fewer values than the writer may send (any value → some)');
    return;
  }
  const w = (schema: Json | undefined): Side => ({ schema, root: writerInput.root });
  const r = (schema: Json | undefined): Side => ({ schema, root: readerInput.root });

  // Alternatives: every alternative the writer may use must be readable; the reader needs one that fits.
  const writerAlternatives = (writer['anyOf'] ?? writer['oneOf']) as Json[] | undefined;
  if (Array.isArray(writerAlternatives)) {
    const { anyOf: _a, oneOf: _o, ...common } = writer;
    writerAlternatives.forEach((alternative, i) => checkSchema(w(isObject(alternative) ? { ...common, ...alternative } : alternative), readerInput, `${at}|${i}`, check));
    return;
  }
  const readerAlternatives = (reader['anyOf'] ?? reader['oneOf']) as Json[] | undefined;
  const writerTypeList = Array.isArray(writer['type']) ? (writer['type'] as string[]) : [];
  if (Array.isArray(readerAlternatives) && writerTypeList.length > 1) {
    // A writer of several types may meet a different alternative with each.
    for (const type of writerTypeList) {
      const values: Schema = Array.isArray(writer['enum']) ? { enum: (writer['enum'] as Json[]).filter((v) => jsonTypeOf(v) === type || (type === 'number' && jsonTypeOf(v) === 'integer')) } : {};
      checkSchema(w({ ...writer, type: [type], ...values }), readerInput, at, check);
    }
    return;
  }
  if (Array.isArray(readerAlternatives)) {
    const { anyOf: _a, oneOf: _o, ...common } = reader;
    let best: Break[] | undefined;
    for (const alternative of readerAlternatives) {
      const trial: Check = { ...check, found: [] };
      checkSchema(w(writer), r(isObject(alternative) ? { ...common, ...alternative } : alternative), at, trial);
      if (best === undefined || trial.found.length < best.length) best = trial.found;
      if (trial.found.length === 0) return;
    }
    check.found.push(...(best ?? []));
    return;
  }

  // Types.
  const writerTypes = typesOf(writer);
  const readerTypes = typesOf(reader);
  if (writerTypes === undefined && readerTypes !== undefined) report('type-narrowed', `the writer may send any type; the reader accepts only ${[...readerTypes].join(', ')}`);
  for (const type of writerTypes ?? []) {
    if (!typeAccepted(type, readerTypes)) report('type-narrowed', type === 'null' ? 'null is no longer accepted' : `${type} is no longer accepted (the reader takes ${[...(readerTypes ?? [])].join(', ')})`);
  }

  // Enumerations and constants.
  if (Array.isArray(writer['enum'])) {
    const rejected = (writer['enum'] as Json[]).filter((value) => !valueAccepted(value, reader));
    if (rejected.length > 0) {
      // A new writer's extra value is one old readers do not know; an old writer's value a new reader refuses is a narrowing.
      if (check.writerIsNew) report('enum-grown', `${rejected.map(describe).join(', ')} may be sent now; old readers do not accept it`);
      else report('enum-narrowed', `${rejected.map(describe).join(', ')} no longer accepted`);
    }
    return; // the writer's values are all known and checked
  }
  if (Array.isArray(reader['enum'])) report('enum-narrowed', `the reader accepts only ${(reader['enum'] as Json[]).map(describe).join(', ')}; the writer is not limited to them`);

  // Strings and numbers.
  if (mayBe(writerTypes, 'string') && mayBe(readerTypes, 'string')) {
    if (reader['format'] !== undefined && reader['format'] !== writer['format']) report('constraint-narrowed', `format ${describe(reader['format'])} where the writer had ${describe(writer['format'])}`);
    if (typeof reader['pattern'] === 'string' && !(typeof writer['pattern'] === 'string' && patternIncluded(writer['pattern'], reader['pattern']))) {
      report('constraint-narrowed', `pattern ${describe(reader['pattern'])} where the writer had ${describe(writer['pattern'])}`);
    }
  }
  const lowerBounds = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'] as const;
  const upperBounds = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'] as const;
  for (const keyword of lowerBounds) {
    const bound = reader[keyword];
    if (typeof bound === 'number' && !(typeof writer[keyword] === 'number' && (writer[keyword] as number) >= bound)) report('constraint-narrowed', `${keyword} ${bound} where the writer had ${describe(writer[keyword])}`);
  }
  for (const keyword of upperBounds) {
    const bound = reader[keyword];
    if (typeof bound === 'number' && !(typeof writer[keyword] === 'number' && (writer[keyword] as number) <= bound)) report('constraint-narrowed', `${keyword} ${bound} where the writer had ${describe(writer[keyword])}`);
  }
  for (const keyword of ['multipleOf', 'uniqueItems'] as const) {
    if (reader[keyword] !== undefined && reader[keyword] !== false && reader[keyword] !== writer[keyword])
      report('constraint-narrowed', `${keyword} ${describe(reader[keyword])} where the writer had ${describe(writer[keyword])}`);
  }
  for (const keyword of Object.keys(reader)) {
    if (handledKeywords.has(keyword) || ignoredKeywords.has(keyword) || keyword.startsWith('x-')) continue;
    if (JSON.stringify(reader[keyword]) !== JSON.stringify(writer[keyword]))
      report('schema-keyword-changed', `${keyword} is ${describe(reader[keyword])} for the reader and ${describe(writer[keyword])} for the writer; the gate cannot tell whether that accepts less`);
  }

  // Arrays.
  if (mayBe(writerTypes, 'array') && mayBe(readerTypes, 'array') && (writer['items'] !== undefined || reader['items'] !== undefined)) {
    checkSchema(w(writer['items']), r(reader['items']), `${at}[]`, check);
  }

  // Objects.
  if (!(mayBe(writerTypes, 'object') && mayBe(readerTypes, 'object'))) return;
  const writerProperties = isObject(writer['properties']) ? writer['properties'] : {};
  const readerProperties = isObject(reader['properties']) ? reader['properties'] : {};
  const writerRequired = new Set(stringsOf(writer['required']));
  const writerClosed = writer['additionalProperties'] === false;
  const readerExtra = reader['additionalProperties'];
  const reportAt = (path: string, rule: Rule, detail: string) => check.found.push({ contract: check.contract, at: path, rule, breaks: check.breaks, detail });
  for (const name of stringsOf(reader['required'])) {
    if (writerRequired.has(name)) continue;
    const report = (rule: Rule, detail: string) => reportAt(`${at}.${name}`, rule, detail);
    if (!check.writerIsNew) report('field-now-required', `${name} is required now; values from before it existed lack it`);
    else if (name in writerProperties) report('field-made-optional', `${name} may be missing now; old readers require it`);
    else report('field-removed', `${name} is gone; old readers require it`);
  }
  for (const [name, schema] of Object.entries(writerProperties)) {
    const path = `${at}.${name}`;
    if (name in readerProperties) checkSchema(w(schema), r(readerProperties[name]), path, check);
    else if (readerExtra === false) {
      const report = (rule: Rule, detail: string) => reportAt(path, rule, detail);
      if (check.writerIsNew) report('field-added-to-closed-object', `${name} is new; old readers reject fields they do not know here (additionalProperties: false)`);
      else report('field-removed', `${name} is no longer allowed; values from before carry it`);
    } else if (isObject(readerExtra)) checkSchema(w(schema), r(readerExtra), path, check);
  }
  if (!writerClosed && readerExtra === false) {
    report(
      check.writerIsNew ? 'field-added-to-closed-object' : 'object-closed',
      check.writerIsNew ? 'the object is open now (any field); old readers reject fields they do not know' : 'the object is closed now; values from before may carry other fields',
    );
  } else if (!writerClosed && isObject(readerExtra)) {
    checkSchema(w(isObject(writer['additionalProperties']) ? writer['additionalProperties'] : true), r(readerExtra), `${at}.*`, check);
  }
}

function schemaBreaks(contract: string, at: string, writer: Side, reader: Side, breaks: Party, writerIsNew: boolean): Break[] {
  const check: Check = { contract, breaks, writerIsNew, found: [] };
  checkSchema(writer, reader, at, check);
  return check.found;
}

/** A value both sides write and read (a topic value or key, a webhook body): both directions. */
export function eventSchemaBreaks(contract: string, released: Json, current: Json, at = ''): Break[] {
  const old: Side = { schema: released, root: released };
  const now: Side = { schema: current, root: current };
  return [...schemaBreaks(contract, at, now, old, 'old consumers', true), ...schemaBreaks(contract, at, old, now, 'old producers', false)];
}

/**
 * A topic's contract as the gate compares it: the registry's fields that
 * matter to compatibility (see `topicSnapshotOf`). `valueSchemaAsRead` is for
 * releases whose consumers accept more than their producers write (v0.1.0's
 * cast JSON without checking for unknown fields): old consumers are judged by
 * it, old producers by `valueSchema`.
 */
export interface TopicContractSnapshot {
  topic: string;
  key: Json;
  valueSchema: Json;
  valueSchemaAsRead?: Json;
  /** JSON Schema of the record headers (name → string); `headersAsRead` like `valueSchemaAsRead`. */
  headers: Json;
  headersAsRead?: Json;
  partitioning: Json;
  compaction: Json;
}

/** The compared part of a registry entry (`topicContracts` of libs/contracts): descriptions and prose left out. */
export function topicSnapshotOf(contract: { [key: string]: Json }): TopicContractSnapshot {
  const key = isObject(contract['key']) ? contract['key'] : {};
  const partitioning = isObject(contract['partitioning']) ? contract['partitioning'] : {};
  const compaction = isObject(contract['compaction']) ? contract['compaction'] : {};
  return {
    topic: String(contract['topic']),
    key: { valueField: key['valueField'] ?? null, schema: key['schema'] ?? null },
    valueSchema: contract['valueSchema'] ?? null,
    ...(contract['valueSchemaAsRead'] !== undefined ? { valueSchemaAsRead: contract['valueSchemaAsRead'] } : {}),
    headers: contract['headers'] ?? null,
    ...(contract['headersAsRead'] !== undefined ? { headersAsRead: contract['headersAsRead'] } : {}),
    partitioning: { key: partitioning['key'] ?? null },
    compaction: { cleanupPolicy: compaction['cleanupPolicy'] ?? null },
  };
}

const withoutDescriptions = (value: Json | undefined): Json | undefined => {
  if (Array.isArray(value)) return value.map((v) => withoutDescriptions(v) as Json);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !ignoredKeywords.has(k))
      .map(([k, v]) => [k, withoutDescriptions(v) as Json]),
  );
};
const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(withoutDescriptions(a)) === JSON.stringify(withoutDescriptions(b));

const headerRules: Partial<Record<Rule, Rule>> = { 'field-removed': 'header-removed', 'field-made-optional': 'header-removed', 'field-now-required': 'header-now-required' };

export function topicBreaks(released: TopicContractSnapshot, current: TopicContractSnapshot): Break[] {
  const contract = released.topic;
  const found: Break[] = [];
  const both = (rule: Rule, at: string, detail: string) => found.push({ contract, at, rule, breaks: 'old consumers', detail }, { contract, at, rule, breaks: 'old producers', detail });
  // Keys decide partitions, compaction and per-key order: any change moves records, so the key is compared whole.
  if (!same(released.key, current.key)) both('key-changed', 'key', `the key was ${describe(withoutDescriptions(released.key))}, is ${describe(withoutDescriptions(current.key))}`);
  if (!same(released.partitioning, current.partitioning))
    both('partitioning-changed', 'partitioning', `was ${describe(withoutDescriptions(released.partitioning))}, is ${describe(withoutDescriptions(current.partitioning))}`);
  if (!same(released.compaction, current.compaction)) both('compaction-changed', 'compaction', `was ${describe(withoutDescriptions(released.compaction))}, is ${describe(withoutDescriptions(current.compaction))}`);
  // Headers are a string map with a schema: the same two directions as values, under header names.
  const side = (schema: Json): Side => ({ schema, root: schema });
  const headersReadBy = released.headersAsRead ?? released.headers;
  const headerBreaks = [
    ...schemaBreaks(contract, 'headers', side(current.headers), side(headersReadBy), 'old consumers', true),
    ...schemaBreaks(contract, 'headers', side(released.headers), side(current.headers), 'old producers', false),
  ];
  for (const b of headerBreaks) found.push({ ...b, rule: headerRules[b.rule] ?? b.rule });
  const valueReadBy = released.valueSchemaAsRead ?? released.valueSchema;
  found.push(
    ...schemaBreaks(contract, 'value', side(current.valueSchema), side(valueReadBy), 'old consumers', true),
    ...schemaBreaks(contract, 'value', side(released.valueSchema), side(current.valueSchema), 'old producers', false),
  );
  return found;
}

// ---- HTTP (OpenAPI 3.x documents)

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** `/purchases/{id}` and `/purchases/{purchaseId}` are the same route. */
const routeOf = (path: string) => path.replace(/\{[^}]+\}/g, '{}');

function operations(document: Json): Map<string, { label: string; operation: Schema; pathItem: Schema }> {
  const out = new Map<string, { label: string; operation: Schema; pathItem: Schema }>();
  const paths = isObject(document) && isObject(document['paths']) ? document['paths'] : {};
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!isObject(pathItem)) continue;
    for (const method of methods) {
      const operation = pathItem[method];
      if (isObject(operation)) out.set(`${method} ${routeOf(path)}`, { label: `${method.toUpperCase()} ${path}`, operation, pathItem });
    }
  }
  return out;
}

function parametersOf(entry: { operation: Schema; pathItem: Schema }, root: Json): Map<string, Schema> {
  const out = new Map<string, Schema>();
  for (const list of [entry.pathItem['parameters'], entry.operation['parameters']]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const parameter = resolve(raw, root);
      if (isObject(parameter) && typeof parameter['name'] === 'string' && typeof parameter['in'] === 'string') {
        // Path parameters are positional: their names may change with the route staying the same.
        out.set(parameter['in'] === 'path' ? `path ${out.size}` : `${parameter['in']} ${parameter['name'].toLowerCase()}`, parameter);
      }
    }
  }
  return out;
}

function contentOf(holder: Json | undefined, root: Json): Map<string, Json | undefined> {
  const resolved = resolve(holder, root);
  const content = isObject(resolved) && isObject(resolved['content']) ? resolved['content'] : {};
  return new Map(Object.entries(content).map(([type, media]) => [type, isObject(media) ? media['schema'] : undefined]));
}

export interface HttpComparison {
  breaks: Break[];
  /** Changes that break no one but a reviewer should see (responses added, operations added). */
  notes: string[];
}

/** An OpenAPI document of a release against today's. */
export function openApiBreaks(contract: string, released: Json, current: Json): HttpComparison {
  const breaks: Break[] = [];
  const notes: string[] = [];
  const push = (at: string, rule: Rule, detail: string) => breaks.push({ contract, at, rule, breaks: 'old clients', detail });
  const oldOps = operations(released);
  const newOps = operations(current);
  for (const [key, { label }] of newOps) if (!oldOps.has(key)) notes.push(`${contract}: ${label} added`);
  for (const [key, oldEntry] of oldOps) {
    const newEntry = newOps.get(key);
    const label = oldEntry.label;
    if (!newEntry) {
      push(label, 'operation-removed', `${label} is gone`);
      continue;
    }
    // Parameters: old clients send what the release documented.
    const oldParameters = parametersOf(oldEntry, released);
    const newParameters = parametersOf(newEntry, current);
    for (const [name, parameter] of oldParameters) {
      const now = newParameters.get(name);
      const at = `${label} parameter ${name}`;
      if (!now) push(at, 'parameter-removed', `${name} is no longer a parameter; old clients still send it`);
      else {
        if (now['required'] === true && parameter['required'] !== true) push(at, 'parameter-now-required', `${name} is required now`);
        breaks.push(...schemaBreaks(contract, at, { schema: parameter['schema'], root: released }, { schema: now['schema'], root: current }, 'old clients', false));
      }
    }
    for (const [name, parameter] of newParameters) {
      if (!oldParameters.has(name) && parameter['required'] === true) push(`${label} parameter ${name}`, 'parameter-now-required', `${name} is a new required parameter; old clients do not send it`);
    }
    // Request body: what old clients send must still be accepted.
    const oldBody = resolve(oldEntry.operation['requestBody'], released);
    const newBody = resolve(newEntry.operation['requestBody'], current);
    if (isObject(newBody) && newBody['required'] === true && !(isObject(oldBody) && oldBody['required'] === true)) {
      push(`${label} request body`, 'request-body-now-required', 'a body is required now; old clients may send none');
    }
    const newRequest = contentOf(newBody, current);
    for (const [type, schema] of contentOf(oldBody, released)) {
      const at = `${label} request body ${type}`;
      if (!newRequest.has(type)) push(at, 'request-media-type-removed', `${type} is no longer accepted`);
      else breaks.push(...schemaBreaks(contract, at, { schema, root: released }, { schema: newRequest.get(type), root: current }, 'old clients', false));
    }
    // Responses: what the service answers now must fit what old clients were promised.
    const oldResponses = isObject(oldEntry.operation['responses']) ? oldEntry.operation['responses'] : {};
    const newResponses = isObject(newEntry.operation['responses']) ? newEntry.operation['responses'] : {};
    for (const status of Object.keys(newResponses)) if (!(status in oldResponses)) notes.push(`${contract}: ${label} response ${status} added`);
    for (const [status, response] of Object.entries(oldResponses)) {
      const at = `${label} response ${status}`;
      if (!(status in newResponses)) {
        push(at, 'response-removed', `${status} is no longer documented; old clients handle it`);
        continue;
      }
      const newContent = contentOf(newResponses[status], current);
      for (const [type, schema] of contentOf(response, released)) {
        if (!newContent.has(type)) push(`${at} ${type}`, 'response-media-type-removed', `${type} is no longer returned`);
        else breaks.push(...schemaBreaks(contract, `${at} ${type}`, { schema: newContent.get(type), root: current }, { schema, root: released }, 'old clients', true));
      }
    }
  }
  return { breaks, notes };
}

// ---- a whole release

export interface ContractSet {
  topics: Record<string, TopicContractSnapshot>;
  /** Webhook payload schemas by `$id` (…/<event type>/v<N>.json). */
  webhooks: Record<string, Json>;
  /** OpenAPI documents by service. */
  openapi: Record<string, Json>;
}

/** `name.v3` → { base: 'name', version: 3 }; also `…/v3.json` ids. */
export function versionOf(name: string): { base: string; version: number } | undefined {
  const match = /^(.*?)[./]v(\d+)(\.json)?$/.exec(name);
  return match ? { base: match[1] as string, version: Number(match[2]) } : undefined;
}

/**
 * A contract of the release that is gone today breaks its consumers, unless
 * the release already carried its successor (`….v2` beside `….v1`): then the
 * release was the dual-publishing window, and consumers had it to move.
 */
function removalBreaks(kind: string, released: string[], current: Set<string>): Break[] {
  const found: Break[] = [];
  for (const name of released) {
    if (current.has(name)) continue;
    const version = versionOf(name);
    const successorReleased =
      version !== undefined &&
      released.some((other) => {
        const v = versionOf(other);
        return v !== undefined && v.base === version.base && v.version > version.version;
      });
    if (!successorReleased) {
      found.push({ contract: name, at: '(whole)', rule: 'contract-removed', breaks: 'old consumers', detail: `the ${kind} is gone; publish it beside its successor for a release before retiring it` });
    }
  }
  return found;
}

export function releaseBreaks(released: ContractSet, current: ContractSet): HttpComparison {
  const breaks: Break[] = [];
  const notes: string[] = [];
  breaks.push(...removalBreaks('topic', Object.keys(released.topics), new Set(Object.keys(current.topics))));
  for (const [topic, contract] of Object.entries(released.topics)) {
    const now = current.topics[topic];
    if (now) breaks.push(...topicBreaks(contract, now));
  }
  for (const topic of Object.keys(current.topics)) if (!(topic in released.topics)) notes.push(`topic ${topic} added`);
  breaks.push(...removalBreaks('webhook payload', Object.keys(released.webhooks), new Set(Object.keys(current.webhooks))));
  for (const [id, schema] of Object.entries(released.webhooks)) {
    const now = current.webhooks[id];
    if (now !== undefined) breaks.push(...eventSchemaBreaks(id, schema, now));
  }
  for (const id of Object.keys(current.webhooks)) if (!(id in released.webhooks)) notes.push(`webhook payload ${id} added`);
  for (const [service, document] of Object.entries(released.openapi)) {
    const now = current.openapi[service];
    if (now === undefined) {
      breaks.push({ contract: `${service} OpenAPI`, at: '(whole)', rule: 'contract-removed', breaks: 'old clients', detail: `${service}'s API is gone` });
      continue;
    }
    const comparison = openApiBreaks(`${service} OpenAPI`, document, now);
    breaks.push(...comparison.breaks);
    notes.push(...comparison.notes);
  }
  return { breaks, notes };
}

/**
 * A break the gate finds that a reviewer accepted, with the reason: for a
 * contract document stricter than the code that reads it (the reader already
 * copes), never to let a break through. Each must still match a break found,
 * so one that no longer applies is reported too.
 */
export interface AcknowledgedBreak {
  release: string;
  rule: Rule;
  contract: string;
  at: string;
  breaks: Party;
  why: string;
}

export function applyAcknowledgements(release: string, found: Break[], acknowledged: readonly AcknowledgedBreak[]): { breaks: Break[]; stale: AcknowledgedBreak[] } {
  const mine = acknowledged.filter((a) => a.release === release);
  const matches = (a: AcknowledgedBreak, b: Break) => a.rule === b.rule && a.contract === b.contract && a.at === b.at && a.breaks === b.breaks;
  for (const a of mine) if (!a.why.trim()) throw new Error(`an acknowledged break needs a reason: ${a.rule} ${a.contract} ${a.at}`);
  return {
    breaks: found.filter((b) => !mine.some((a) => matches(a, b))),
    stale: mine.filter((a) => !found.some((b) => matches(a, b))),
  };
}

export function formatBreak(b: Break): string {
  return `${b.rule}: ${b.contract} ${b.at} — ${b.detail} (breaks ${b.breaks})`;
}
