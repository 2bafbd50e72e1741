import { eventTypes, matchesEventTypeFilter, webhookPayloadSchema, type EventType, type EventTypeFilter, type JsonSchema, type JsonValue } from '@gancho/contracts';
import { fieldConditions, parsePayloadFilter, type FilterNode, type FilterProblem, type FilterScalar } from './payload-filter';

type FieldCondition = Extract<FilterNode, { kind: 'field' }>;

/** The schema of `data.<segments>` in the webhook of `type`, or undefined when that type has no such field. */
function dataFieldSchema(type: EventType, segments: readonly string[]): JsonSchema | undefined {
  let schema = (webhookPayloadSchema(type)['properties'] as Record<string, JsonSchema>)['data'] as JsonSchema | undefined;
  for (const segment of segments) {
    const properties = schema?.['properties'] as Record<string, JsonSchema> | undefined;
    if (!properties || !Object.hasOwn(properties, segment)) return undefined;
    schema = properties[segment];
  }
  return schema;
}

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'object';

const kindOf = (value: JsonValue): Kind => (value === null ? 'null' : typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'object');

/** What values a field of this schema takes: its kinds, and its values when the schema lists them (const, enum). */
function valuesOf(schema: JsonSchema): { kinds: Set<Kind>; only: JsonValue[] | null } {
  if ('const' in schema) return { kinds: new Set([kindOf(schema['const'] as JsonValue)]), only: [schema['const'] as JsonValue] };
  if (Array.isArray(schema['enum'])) {
    const only = schema['enum'] as JsonValue[];
    return { kinds: new Set(only.map(kindOf)), only };
  }
  const type = schema['type'];
  const types = Array.isArray(type) ? type : [type];
  const kinds = new Set<Kind>(types.map((t) => (t === 'integer' ? 'number' : t) as Kind));
  return { kinds, only: null };
}

const describeKinds = (kinds: Set<Kind>) => [...kinds].join(' or ');

function conditionProblems(condition: FieldCondition, types: readonly EventType[]): FilterProblem[] {
  const schemas = types.map((type) => dataFieldSchema(type, condition.segments)).filter((s): s is JsonSchema => s !== undefined);
  const at = condition.at;
  if (schemas.length === 0) {
    return [{ at, reason: 'unknown_field', message: `no event type this endpoint subscribes to has data.${condition.path}` }];
  }
  if (condition.operator === '$exists') return [];
  const fields = schemas.map(valuesOf);
  const kinds = new Set(fields.flatMap((f) => [...f.kinds]));
  if (kinds.has('object') && kinds.size === 1) {
    return [{ at, reason: 'type_mismatch', message: `data.${condition.path} is an object: filter on one of its fields (e.g. data.${condition.path}.id), or use $exists` }];
  }
  const numeric = ['$gt', '$gte', '$lt', '$lte'].includes(condition.operator);
  if (numeric) {
    return kinds.has('number') ? [] : [{ at, reason: 'type_mismatch', message: `data.${condition.path} is a ${describeKinds(kinds)}; ${condition.operator} compares numbers` }];
  }
  const values: FilterScalar[] = Array.isArray(condition.value) ? condition.value : [condition.value];
  const wrong = values.filter((v) => !kinds.has(kindOf(v)));
  if (wrong.length > 0) {
    return [{ at, reason: 'type_mismatch', message: `data.${condition.path} is a ${describeKinds(kinds)}, not ${wrong.map((v) => JSON.stringify(v)).join(', ')}` }];
  }
  // A value that no subscribed type can have (a misspelt status or phase) would make the endpoint silent.
  if (condition.operator === '$eq' || condition.operator === '$in') {
    const canMatch = values.some((v) => fields.some((f) => f.kinds.has(kindOf(v)) && (f.only === null || f.only.includes(v))));
    if (!canMatch) {
      const possible = [...new Set(fields.flatMap((f) => f.only ?? []))].slice(0, 12);
      return [
        {
          at,
          reason: 'never_matches',
          message: `no event type this endpoint subscribes to has data.${condition.path} = ${values.map((v) => JSON.stringify(v)).join(' or ')}; it can be ${possible.map((v) => JSON.stringify(v)).join(', ')}`,
        },
      ];
    }
  }
  return [];
}

/** The event types an endpoint with this event-type filter receives. */
export function subscribedEventTypes(filter: EventTypeFilter): EventType[] {
  return eventTypes.filter((type) => matchesEventTypeFilter(filter, type));
}

/**
 * What is wrong with a payload filter for an endpoint subscribed to these
 * event types: its own shape first, then each field checked against the
 * webhook schemas of the subscribed types (a path that none of them has, a
 * value of the wrong type, a value none of them can take). Empty: it is good.
 */
export function payloadFilterProblems(filter: unknown, eventTypeFilter: EventTypeFilter): FilterProblem[] {
  const parsed = parsePayloadFilter(filter);
  if (parsed.filter === undefined) return parsed.problems;
  const types = subscribedEventTypes(eventTypeFilter);
  return fieldConditions(parsed.filter).flatMap((condition) => conditionProblems(condition, types));
}
