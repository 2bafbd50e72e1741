/**
 * The payload filter language of endpoints (docs/filters.md): a JSON object
 * over the webhook's `data`, in the style of Convoy's and Hookdeck's filters.
 *
 *   { "course.id": "crs_1" }                               equality (nested paths are dotted)
 *   { "phase": { "$in": ["won", "after_the_sale"] } }       $eq $ne $in $nin
 *   { "course.price_cents": { "$gte": 100000 } }            $gt $gte $lt $lte (numbers)
 *   { "student.email": { "$exists": true } }                $exists
 *   { "$or": [ {…}, {…} ] }, { "$and": [ … ] }, { "$not": {…} }
 *
 * Several keys in one object must all hold. Pure: parsing gives a tree or the
 * problems (each with where it is in the filter), and `compilePayloadFilter`
 * turns a tree into a predicate, once per endpoint state, for the routing step.
 */

export type FilterScalar = string | number | boolean | null;
export const comparisonOperators = ['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists'] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];
export const logicalOperators = ['$and', '$or', '$not'] as const;

export type FilterNode =
  | { kind: 'and'; of: FilterNode[] }
  | { kind: 'or'; of: FilterNode[] }
  | { kind: 'not'; of: FilterNode }
  | { kind: 'field'; path: string; segments: string[]; operator: ComparisonOperator; value: FilterScalar | FilterScalar[]; at: string };

/** Why a filter is refused; stable, for clients to branch on. */
export type FilterProblemReason = 'not_an_object' | 'empty' | 'unknown_operator' | 'bad_path' | 'bad_value' | 'too_large' | 'unknown_field' | 'type_mismatch' | 'never_matches';

export interface FilterProblem {
  /** Where in the filter, e.g. `$or[1].course.price_cents.$gt`. */
  at: string;
  reason: FilterProblemReason;
  message: string;
}

export const payloadFilterLimits = { maxJsonBytes: 4096, maxConditions: 32, maxDepth: 5, maxInValues: 100, maxStringLength: 256 } as const;

const pathPattern = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is FilterScalar => value === null || typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
const join = (at: string, key: string) => (at === '' ? key : `${at}.${key}`);

export type ParsedPayloadFilter = { filter: FilterNode; problems: [] } | { filter?: undefined; problems: FilterProblem[] };

/** The filter's tree, or every problem with it. */
export function parsePayloadFilter(input: unknown): ParsedPayloadFilter {
  const problems: FilterProblem[] = [];
  const size = JSON.stringify(input ?? null).length;
  if (size > payloadFilterLimits.maxJsonBytes) {
    return { problems: [{ at: '', reason: 'too_large', message: `the filter is ${size} characters of JSON; at most ${payloadFilterLimits.maxJsonBytes}` }] };
  }
  let conditions = 0;
  const scalar = (value: unknown, at: string): value is FilterScalar => {
    if (!isScalar(value)) {
      problems.push({ at, reason: 'bad_value', message: 'a string, number, boolean or null' });
      return false;
    }
    if (typeof value === 'string' && value.length > payloadFilterLimits.maxStringLength) {
      problems.push({ at, reason: 'bad_value', message: `at most ${payloadFilterLimits.maxStringLength} characters` });
      return false;
    }
    return true;
  };
  const field = (path: string, operator: ComparisonOperator, value: unknown, at: string): FilterNode | undefined => {
    conditions += 1;
    const node = (v: FilterScalar | FilterScalar[]): FilterNode => ({ kind: 'field', path, segments: path.split('.'), operator, value: v, at });
    switch (operator) {
      case '$eq':
      case '$ne':
        return scalar(value, at) ? node(value) : undefined;
      case '$in':
      case '$nin': {
        if (!Array.isArray(value) || value.length === 0 || value.length > payloadFilterLimits.maxInValues) {
          problems.push({ at, reason: 'bad_value', message: `${operator} takes a list of 1 to ${payloadFilterLimits.maxInValues} values` });
          return undefined;
        }
        const values: FilterScalar[] = [];
        value.forEach((v, i) => {
          if (scalar(v, `${at}[${i}]`)) values.push(v);
        });
        return values.length === value.length ? node(values) : undefined;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          problems.push({ at, reason: 'bad_value', message: `${operator} compares numbers: give a number` });
          return undefined;
        }
        return node(value);
      case '$exists':
        if (typeof value !== 'boolean') {
          problems.push({ at, reason: 'bad_value', message: '$exists takes true or false' });
          return undefined;
        }
        return node(value);
      default: {
        const _exhaustive: never = operator;
        return _exhaustive;
      }
    }
  };
  const object = (value: unknown, at: string, depth: number): FilterNode | undefined => {
    if (!isPlainObject(value)) {
      problems.push({ at, reason: 'not_an_object', message: 'a filter is a JSON object, e.g. {"course.id": "crs_1"}' });
      return undefined;
    }
    const entries = Object.entries(value);
    if (entries.length === 0) {
      problems.push({ at, reason: 'empty', message: 'an empty filter; leave the filter out (null) to receive every event' });
      return undefined;
    }
    if (depth > payloadFilterLimits.maxDepth) {
      problems.push({ at, reason: 'too_large', message: `$and/$or/$not nested more than ${payloadFilterLimits.maxDepth} deep` });
      return undefined;
    }
    const nodes: (FilterNode | undefined)[] = [];
    for (const [key, inner] of entries) {
      const here = join(at, key);
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(inner) || inner.length === 0) {
          problems.push({ at: here, reason: 'bad_value', message: `${key} takes a non-empty list of filters` });
          continue;
        }
        const of = inner.map((item, i) => object(item, `${here}[${i}]`, depth + 1));
        nodes.push(of.every((n) => n !== undefined) ? { kind: key === '$and' ? 'and' : 'or', of: of as FilterNode[] } : undefined);
      } else if (key === '$not') {
        const of = object(inner, here, depth + 1);
        nodes.push(of && { kind: 'not', of });
      } else if (key.startsWith('$')) {
        problems.push({ at: here, reason: 'unknown_operator', message: `${key} is not an operator here: use $and, $or or $not, or a field path` });
      } else if (!pathPattern.test(key)) {
        problems.push({ at: here, reason: 'bad_path', message: 'a field path is names of data fields joined by dots, e.g. course.price_cents' });
      } else if (isPlainObject(inner)) {
        const operators = Object.entries(inner);
        if (operators.length === 0) problems.push({ at: here, reason: 'bad_value', message: 'give a value or at least one operator, e.g. {"$gte": 100000}' });
        for (const [operator, operand] of operators) {
          if (!(comparisonOperators as readonly string[]).includes(operator)) {
            problems.push({ at: join(here, operator), reason: 'unknown_operator', message: `${operator} is not an operator: ${comparisonOperators.join(', ')}` });
            continue;
          }
          nodes.push(field(key, operator as ComparisonOperator, operand, join(here, operator)));
        }
      } else if (Array.isArray(inner)) {
        problems.push({ at: here, reason: 'bad_value', message: 'to match one of several values use {"$in": [...]}' });
      } else {
        nodes.push(field(key, '$eq', inner, here));
      }
    }
    if (nodes.some((n) => n === undefined) || nodes.length === 0) return undefined;
    return nodes.length === 1 ? nodes[0] : { kind: 'and', of: nodes as FilterNode[] };
  };
  const filter = object(input, '', 0);
  if (conditions > payloadFilterLimits.maxConditions) {
    problems.push({ at: '', reason: 'too_large', message: `${conditions} conditions; at most ${payloadFilterLimits.maxConditions}` });
  }
  return filter && problems.length === 0 ? { filter, problems: [] } : { problems };
}

/** Every field condition of a tree, in order. */
export function fieldConditions(node: FilterNode): Extract<FilterNode, { kind: 'field' }>[] {
  switch (node.kind) {
    case 'field':
      return [node];
    case 'not':
      return fieldConditions(node.of);
    case 'and':
    case 'or':
      return node.of.flatMap(fieldConditions);
    default: {
      const _exhaustive: never = node;
      return _exhaustive;
    }
  }
}

export type PayloadPredicate = (data: unknown) => boolean;

function valueAt(data: unknown, segments: readonly string[]): unknown {
  let current = data;
  for (const segment of segments) {
    // Own fields only: `constructor` or `__proto__` of a plain object is no field of the data.
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * A predicate over the webhook's `data`. A missing field equals nothing (so
 * `$ne`/`$nin` hold for it) and compares to no number; `$exists` is true for
 * a field that is present, null included.
 */
export function compilePayloadFilter(node: FilterNode): PayloadPredicate {
  switch (node.kind) {
    case 'and': {
      const of = node.of.map(compilePayloadFilter);
      return (data) => of.every((p) => p(data));
    }
    case 'or': {
      const of = node.of.map(compilePayloadFilter);
      return (data) => of.some((p) => p(data));
    }
    case 'not': {
      const of = compilePayloadFilter(node.of);
      return (data) => !of(data);
    }
    case 'field':
      return fieldPredicate(node);
    default: {
      const _exhaustive: never = node;
      return _exhaustive;
    }
  }
}

function fieldPredicate(node: Extract<FilterNode, { kind: 'field' }>): PayloadPredicate {
  const { segments, value } = node;
  const at = (data: unknown) => valueAt(data, segments);
  const one = value as FilterScalar;
  const n = value as number;
  switch (node.operator) {
    case '$eq':
      return (data) => at(data) === one;
    case '$ne':
      return (data) => at(data) !== one;
    case '$in': {
      const values = new Set(value as FilterScalar[]);
      return (data) => values.has(at(data) as FilterScalar);
    }
    case '$nin': {
      const values = new Set(value as FilterScalar[]);
      return (data) => !values.has(at(data) as FilterScalar);
    }
    case '$gt':
      return (data) => {
        const v = at(data);
        return typeof v === 'number' && v > n;
      };
    case '$gte':
      return (data) => {
        const v = at(data);
        return typeof v === 'number' && v >= n;
      };
    case '$lt':
      return (data) => {
        const v = at(data);
        return typeof v === 'number' && v < n;
      };
    case '$lte':
      return (data) => {
        const v = at(data);
        return typeof v === 'number' && v <= n;
      };
    case '$exists':
      return value === true ? (data) => at(data) !== undefined : (data) => at(data) === undefined;
    default: {
      const _exhaustive: never = node.operator;
      return _exhaustive;
    }
  }
}
