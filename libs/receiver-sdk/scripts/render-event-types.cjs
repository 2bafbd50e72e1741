// Renders the TypeScript types of every webhook event from its JSON Schema.
// Plain CommonJS so that `generate-event-types.cjs` runs on Node without a
// compiler; the unit test renders again and compares with the committed file.
'use strict';

/** @typedef {{ [key: string]: unknown }} JsonSchema */
/** @typedef {{ type: string, schema: JsonSchema }} EventSchema */

/** Sub-schemas that are the same in every event type get a name of their own. */
const sharedNames = /** @type {Record<string, { name: string, doc: string }>} */ ({
  'data.previous_status': { name: 'PurchaseStatus', doc: 'Every status a purchase can be in.' },
  'data.course': { name: 'Course', doc: 'The course the student is buying.' },
  'data.student': { name: 'Student', doc: 'The student who is buying.' },
});

/** @param {string} text */
const pascal = (text) =>
  text
    .split(/[._-]/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** @param {unknown} value */
const literal = (value) => (typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : JSON.stringify(value));

/** @param {JsonSchema} schema @param {string} indent */
function docComment(schema, indent) {
  const lines = [];
  const description = typeof schema['description'] === 'string' ? schema['description'] : '';
  if (description) lines.push(description);
  if (schema['format'] === 'date-time' && !description.includes('RFC 3339')) lines.push('RFC 3339 date-time.');
  if (schema['format'] === 'email' && !description.includes('e-mail')) lines.push('An e-mail address.');
  if (schema['type'] === 'integer') lines.push('An integer' + (typeof schema['minimum'] === 'number' ? `, at least ${schema['minimum']}.` : '.'));
  if (typeof schema['pattern'] === 'string') lines.push(`Matches \`${schema['pattern']}\`.`);
  if (lines.length === 0) return '';
  return `${indent}/** ${lines.join(' ')} */\n`;
}

/**
 * @param {readonly EventSchema[]} events every event type with its JSON Schema
 * @returns {string} the TypeScript source of the generated module
 */
function renderEventTypes(events) {
  if (events.length === 0) throw new Error('no event types to render');
  /** @type {Map<string, string>} path -> declaration */
  const shared = new Map();

  /** The path's sub-schema when it is identical in every event type, else undefined. @param {string} path */
  const sameEverywhere = (path) => {
    const texts = new Set(events.map((e) => JSON.stringify(at(e.schema, path))));
    return texts.size === 1 ? at(events[0]?.schema ?? {}, path) : undefined;
  };

  /** @param {JsonSchema} schema @param {string} path */
  function at(schema, path) {
    /** @type {any} */
    let node = schema;
    for (const key of path.split('.')) node = node?.['properties']?.[key];
    return node;
  }

  /** @param {JsonSchema} schema @param {string} path @param {string} indent @returns {string} */
  function typeOf(schema, path, indent) {
    const named = sharedNames[path];
    if (named !== undefined && sameEverywhere(path) !== undefined) {
      const { name, doc } = named;
      if (!shared.has(path)) shared.set(path, ''); // reserve the name before recursing
      const values = Array.isArray(schema['enum']) ? schema['enum'] : undefined;
      if (values) {
        const nonNull = values.filter((v) => v !== null);
        shared.set(path, `/** ${doc} */\nexport type ${name} =\n${nonNull.map((v) => `  | ${literal(v)}`).join('\n')};\n`);
        return values.includes(null) ? `${name} | null` : name;
      }
      shared.set(path, `/** ${doc} */\nexport interface ${name} ${objectType(schema, path, '')}\n`);
      return name;
    }
    if ('const' in schema) return literal(schema['const']);
    if (Array.isArray(schema['enum'])) return schema['enum'].map(literal).join(' | ');
    switch (schema['type']) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array':
        return `Array<${typeOf(/** @type {JsonSchema} */ (schema['items'] ?? {}), `${path}.items`, indent)}>`;
      case 'object':
        return objectType(schema, path, indent);
      default:
        return 'unknown';
    }
  }

  /** @param {JsonSchema} schema @param {string} path @param {string} indent @param {Record<string, string>} [named] members typed by name */
  function objectType(schema, path, indent, named = {}) {
    const properties = /** @type {Record<string, JsonSchema>} */ (schema['properties'] ?? {});
    const required = new Set(/** @type {string[]} */ (schema['required'] ?? []));
    const inner = `${indent}  `;
    const members = Object.entries(properties).map(([key, property]) => {
      const childPath = path === '' ? key : `${path}.${key}`;
      return `${docComment(property, inner)}${inner}${key}${required.has(key) ? '' : '?'}: ${named[key] ?? typeOf(property, childPath, inner)};`;
    });
    if (schema['additionalProperties'] !== false) members.push(`${inner}[key: string]: unknown;`);
    return `{\n${members.join('\n')}\n${indent}}`;
  }

  const blocks = events.map(({ type, schema }) => {
    const base = pascal(type);
    const data = /** @type {JsonSchema} */ (at(schema, 'data'));
    const dataBody = objectType(data, 'data', '');
    const title = typeof schema['title'] === 'string' ? schema['title'] : type;
    const description = typeof schema['description'] === 'string' ? ` ${schema['description']}` : '';
    const id = typeof schema['$id'] === 'string' ? `\n * Schema: ${schema['$id']}` : '';
    const rootBody = objectType(schema, '', '', { data: `${base}Data` });
    return `/**\n * ${title}.${description}${id}\n */\nexport interface ${base}Webhook ${rootBody}\n\nexport interface ${base}Data ${dataBody}\n`;
  });

  const types = events.map((e) => e.type);
  return [
    '// Generated by scripts/generate-event-types.cjs from the JSON Schemas of @gancho/contracts.',
    '// Do not edit: run `npm run generate -w @gancho/webhooks` (a unit test fails when this file is out of date).',
    '',
    '/** Every event type Gancho sends, in the order of the status catalog. */',
    `export const eventTypes = [\n${types.map((t) => `  ${literal(t)},`).join('\n')}\n] as const;`,
    'export type EventType = (typeof eventTypes)[number];',
    '',
    ...[...shared.values()],
    ...blocks,
    '/** The webhook body of each event type. */',
    `export interface WebhookEventMap {\n${types.map((t) => `  ${literal(t)}: ${pascal(t)}Webhook;`).join('\n')}\n}`,
    '',
    '/** Any webhook body; narrow it with `switch (event.type)`. */',
    'export type WebhookEvent = WebhookEventMap[EventType];',
    'export type WebhookEventOf<T extends EventType> = WebhookEventMap[T];',
    '',
  ].join('\n');
}

module.exports = { renderEventTypes };
