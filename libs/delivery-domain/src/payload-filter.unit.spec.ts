import { examplePayload, type PurchaseStatusEventV1 } from '@gancho/contracts';
import { compilePayloadFilter, parsePayloadFilter, payloadFilterLimits, type FilterProblemReason } from './payload-filter';
import { payloadFilterProblems, subscribedEventTypes } from './payload-filter-schema';

// Scenarios:
// - Equality on nested paths, $in/$nin, numeric comparisons, $exists, and $and/$or/$not, alone and combined.
// - A missing field equals nothing and compares to no number; null is a value ($exists true, equal to null).
// - Malformed filters are refused with a stable reason and where it is: unknown operators, bad paths, bad values, limits.
// - Checked against the subscribed types' webhook schemas: unknown paths, wrong types, values no subscribed type takes.

const paid: PurchaseStatusEventV1 = examplePayload('purchase.paid').data;
const cart: PurchaseStatusEventV1 = {
  ...examplePayload('purchase.shopping_cart_created').data,
  previous_status: null,
  sequence: 1,
  course: { id: 'crs_data_science', name: 'Ciência de Dados', price_cents: 90000, currency: 'BRL' },
};

function matches(filter: unknown, data: unknown): boolean {
  const parsed = parsePayloadFilter(filter);
  if (parsed.filter === undefined) throw new Error(`filter refused: ${JSON.stringify(parsed.problems)}`);
  return compilePayloadFilter(parsed.filter)(data);
}

const reasons = (filter: unknown) => parsePayloadFilter(filter).problems.map((p) => `${p.at}:${p.reason}`);

describe('payload filter: evaluation', () => {
  it('equality on a nested path', () => {
    expect(matches({ 'course.id': 'crs_fullstack_2026' }, paid)).toBe(true);
    expect(matches({ 'course.id': 'crs_fullstack_2026' }, cart)).toBe(false);
    expect(matches({ 'course.id': { $eq: 'crs_data_science' } }, cart)).toBe(true);
    expect(matches({ 'course.id': { $ne: 'crs_data_science' } }, cart)).toBe(false);
  });

  it('$in and $nin', () => {
    expect(matches({ phase: { $in: ['won', 'after_sale'] } }, paid)).toBe(true);
    expect(matches({ phase: { $in: ['won', 'after_sale'] } }, cart)).toBe(false);
    expect(matches({ phase: { $nin: ['won', 'after_sale'] } }, cart)).toBe(true);
    expect(matches({ status: { $in: ['paid'] } }, paid)).toBe(true);
  });

  it('numeric comparisons, bounds included or not', () => {
    expect(matches({ 'course.price_cents': { $gt: 1234499 } }, paid)).toBe(true);
    expect(matches({ 'course.price_cents': { $gt: 1234500 } }, paid)).toBe(false);
    expect(matches({ 'course.price_cents': { $gte: 1234500 } }, paid)).toBe(true);
    expect(matches({ 'course.price_cents': { $lt: 1234500 } }, paid)).toBe(false);
    expect(matches({ 'course.price_cents': { $lte: 1234500 } }, paid)).toBe(true);
    // Several operators on one field must all hold: a range.
    expect(matches({ 'course.price_cents': { $gte: 50000, $lt: 100000 } }, cart)).toBe(true);
    expect(matches({ 'course.price_cents': { $gte: 50000, $lt: 100000 } }, paid)).toBe(false);
  });

  it('a comparison with a field that is not a number is false', () => {
    expect(matches({ 'course.name': { $gt: 0 } }, paid)).toBe(false);
    expect(matches({ 'course.missing': { $lt: 10 } }, paid)).toBe(false);
  });

  it('$exists, with null a present value', () => {
    expect(matches({ previous_status: { $exists: true } }, cart)).toBe(true);
    expect(matches({ previous_status: null }, cart)).toBe(true);
    expect(matches({ previous_status: null }, paid)).toBe(false);
    expect(matches({ 'course.discount': { $exists: false } }, paid)).toBe(true);
    expect(matches({ 'course.discount': { $exists: true } }, paid)).toBe(false);
  });

  it('a missing field equals nothing, so $ne and $nin hold for it', () => {
    expect(matches({ 'student.phone': 'x' }, paid)).toBe(false);
    expect(matches({ 'student.phone': { $ne: 'x' } }, paid)).toBe(true);
    expect(matches({ 'student.phone': { $nin: ['x'] } }, paid)).toBe(true);
    expect(matches({ 'course.id.deeper': 'x' }, paid)).toBe(false);
  });

  it('several keys must all hold; $and, $or and $not combine', () => {
    expect(matches({ 'course.id': 'crs_fullstack_2026', phase: 'after_sale' }, paid)).toBe(true);
    expect(matches({ 'course.id': 'crs_fullstack_2026', phase: 'won' }, paid)).toBe(false);
    const either = { $or: [{ 'course.id': 'crs_data_science' }, { 'course.price_cents': { $gte: 1000000 } }] };
    expect(matches(either, paid)).toBe(true);
    expect(matches(either, cart)).toBe(true);
    expect(matches({ $and: [either, { phase: 'open' }] }, cart)).toBe(true);
    expect(matches({ $and: [either, { phase: 'open' }] }, paid)).toBe(false);
    expect(matches({ $not: { phase: 'open' } }, paid)).toBe(true);
    expect(matches({ $not: { phase: 'open' } }, cart)).toBe(false);
    expect(matches({ $not: { $or: [{ status: 'paid' }, { status: 'shopping_cart_created' }] } }, cart)).toBe(false);
  });

  it('strict equality: no coercion between strings and numbers', () => {
    expect(matches({ sequence: '1' }, cart)).toBe(false);
    expect(matches({ sequence: 1 }, cart)).toBe(true);
  });

  it('only own fields of the data are fields: nothing inherited from Object', () => {
    expect(matches({ 'course.constructor': { $exists: true } }, paid)).toBe(false);
    expect(matches({ 'course.__proto__': { $exists: true } }, paid)).toBe(false);
    expect(matches({ 'course.toString': { $exists: false } }, paid)).toBe(true);
  });

  it('data that is not an object matches no field', () => {
    expect(matches({ 'course.id': 'x' }, null)).toBe(false);
    expect(matches({ 'course.id': { $exists: false } }, 'text')).toBe(true);
  });
});

describe('payload filter: shape', () => {
  it('a filter is a non-empty object', () => {
    expect(reasons(null)).toEqual([':not_an_object']);
    expect(reasons([])).toEqual([':not_an_object']);
    expect(reasons('course.id = 1')).toEqual([':not_an_object']);
    expect(reasons({})).toEqual([':empty']);
  });

  it('unknown operators are named where they are', () => {
    expect(reasons({ 'course.price_cents': { $gtx: 1 } })).toEqual(['course.price_cents.$gtx:unknown_operator']);
    expect(reasons({ $nor: [{ phase: 'won' }] })).toEqual(['$nor:unknown_operator']);
    expect(reasons({ $or: [{ phase: 'won' }, { phase: { $regex: 'w' } }] })).toEqual(['$or[1].phase.$regex:unknown_operator']);
  });

  it('paths are data field names joined by dots', () => {
    expect(reasons({ 'course..id': 'x' })).toEqual(['course..id:bad_path']);
    expect(reasons({ 'course[0]': 'x' })).toEqual(['course[0]:bad_path']);
    expect(reasons({ '': 'x' })).toEqual([':bad_path']);
  });

  it('operands of the wrong kind are refused', () => {
    expect(reasons({ 'course.price_cents': { $gt: '100' } })).toEqual(['course.price_cents.$gt:bad_value']);
    expect(reasons({ 'course.price_cents': { $gt: Number.NaN } })).toEqual(['course.price_cents.$gt:bad_value']);
    expect(reasons({ phase: { $in: [] } })).toEqual(['phase.$in:bad_value']);
    expect(reasons({ phase: { $in: 'won' } })).toEqual(['phase.$in:bad_value']);
    expect(reasons({ phase: { $in: ['won', { x: 1 }] } })).toEqual(['phase.$in[1]:bad_value']);
    expect(reasons({ phase: ['won'] })).toEqual(['phase:bad_value']);
    expect(reasons({ phase: {} })).toEqual(['phase:bad_value']);
    expect(reasons({ 'student.email': { $exists: 'yes' } })).toEqual(['student.email.$exists:bad_value']);
    expect(reasons({ $or: [] })).toEqual(['$or:bad_value']);
    expect(reasons({ $and: { phase: 'won' } })).toEqual(['$and:bad_value']);
    expect(reasons({ $not: [{ phase: 'won' }] })).toEqual(['$not:not_an_object']);
  });

  it('size limits: JSON length, conditions, nesting, list and string lengths', () => {
    expect(reasons({ 'course.id': 'x'.repeat(payloadFilterLimits.maxJsonBytes) })).toEqual([':too_large']);
    const many = Object.fromEntries(Array.from({ length: payloadFilterLimits.maxConditions + 1 }, (_, i) => [`f${i}`, i]));
    expect(reasons(many)).toEqual([':too_large']);
    let deep: unknown = { phase: 'won' };
    for (let i = 0; i <= payloadFilterLimits.maxDepth; i += 1) deep = { $not: deep };
    expect(reasons(deep)).toContain('$not.$not.$not.$not.$not.$not:too_large');
    expect(reasons({ phase: { $in: Array.from({ length: payloadFilterLimits.maxInValues + 1 }, (_, i) => `p${i}`) } })).toEqual(['phase.$in:bad_value']);
    expect(reasons({ 'course.id': 'x'.repeat(payloadFilterLimits.maxStringLength + 1) })).toEqual(['course.id:bad_value']);
  });

  it('reports every problem at once', () => {
    expect(reasons({ a: { $bad: 1 }, 'b c': 1, $or: [] })).toEqual(['a.$bad:unknown_operator', 'b c:bad_path', '$or:bad_value']);
  });
});

describe('payload filter: checked against the subscribed event types', () => {
  const problems = (filter: unknown, types: string[]): string[] => payloadFilterProblems(filter, types).map((p) => `${p.at}:${p.reason satisfies FilterProblemReason}`);

  it('fields every webhook has are accepted for every subscription', () => {
    expect(problems({ 'course.id': 'crs_1', 'course.price_cents': { $gte: 100000 }, phase: { $in: ['won', 'open'] }, 'student.email': { $exists: true } }, ['*'])).toEqual([]);
    expect(problems({ previous_status: null }, ['purchase.*'])).toEqual([]);
  });

  it('a path that no subscribed type has is refused', () => {
    expect(problems({ 'course.price': { $gt: 1 } }, ['*'])).toEqual(['course.price.$gt:unknown_field']);
    expect(problems({ 'course.id.x': 'a' }, ['*'])).toEqual(['course.id.x:unknown_field']);
    expect(problems({ $or: [{ amount: 1 }] }, ['purchase.paid'])).toEqual(['$or[0].amount:unknown_field']);
  });

  it('values of the wrong type for the field are refused', () => {
    expect(problems({ 'course.price_cents': 'cheap' }, ['*'])).toEqual(['course.price_cents:type_mismatch']);
    expect(problems({ 'course.name': { $gt: 5 } }, ['*'])).toEqual(['course.name.$gt:type_mismatch']);
    expect(problems({ course: 'crs_1' }, ['*'])).toEqual(['course:type_mismatch']);
    expect(problems({ course: { $exists: true } }, ['*'])).toEqual([]);
    expect(problems({ sequence: { $in: [1, '2'] } }, ['*'])).toEqual(['sequence.$in:type_mismatch']);
  });

  it('a value no subscribed type can take (a misspelt phase or status) is refused', () => {
    expect(problems({ phase: 'ganho' }, ['*'])).toEqual(['phase:never_matches']);
    expect(problems({ phase: 'won' }, ['purchase.paid'])).toEqual(['phase:never_matches']);
    expect(problems({ phase: 'after_sale' }, ['purchase.paid'])).toEqual([]);
    expect(problems({ status: { $in: ['paid', 'made_effective'] } }, ['purchase.paid'])).toEqual([]);
    // A negation of an impossible value is merely always true: allowed.
    expect(problems({ phase: { $ne: 'won' } }, ['purchase.paid'])).toEqual([]);
    const [problem] = payloadFilterProblems({ phase: 'ganho' }, ['*']);
    expect(problem?.message).toContain('"won"');
  });

  it('shape problems come first, without a schema check', () => {
    expect(problems({ 'course.price': { $gtx: 1 } }, ['*'])).toEqual(['course.price.$gtx:unknown_operator']);
  });

  it('the subscribed types follow the event-type filter', () => {
    expect(subscribedEventTypes(['purchase.paid', 'purchase.made_effective'])).toEqual(['purchase.made_effective', 'purchase.paid']);
    expect(subscribedEventTypes(['*'])).toHaveLength(41);
  });
});
