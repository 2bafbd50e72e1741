/**
 * The console's builder for the common payload filters (docs/filters.md): one
 * course, one phase, a price above and/or below, all of them together. Prices
 * are typed in the currency's units (reais) and sent in cents, as the
 * webhook's `course.price_cents`. A filter the builder cannot show (written
 * through the API: $or, $not, other fields) is kept as it is unless the
 * partner builds a new one.
 */
export interface FilterBuilderFields {
  courseId: string;
  /** '' for any phase. */
  phase: string;
  /** In currency units, as typed; '' for no bound. */
  priceAbove: string;
  priceBelow: string;
}

export const emptyBuilderFields: FilterBuilderFields = { courseId: '', phase: '', priceAbove: '', priceBelow: '' };

export type PayloadFilter = Record<string, unknown>;

const toCents = (units: string): number => Math.round(Number(units.replace(',', '.')) * 100);
const fromCents = (cents: number): string => String(cents / 100);

/** Whether a typed price is a number the builder can send. */
export function isPrice(units: string): boolean {
  const trimmed = units.trim().replace(',', '.');
  return trimmed === '' || (/^\d+(\.\d{1,2})?$/.test(trimmed) && Number.isFinite(Number(trimmed)));
}

/** The filter of the builder's fields; null when every field is empty (every event). */
export function filterOfFields(fields: FilterBuilderFields): PayloadFilter | null {
  const filter: PayloadFilter = {};
  if (fields.courseId.trim() !== '') filter['course.id'] = fields.courseId.trim();
  if (fields.phase !== '') filter['phase'] = fields.phase;
  const price: Record<string, number> = {};
  if (fields.priceAbove.trim() !== '' && isPrice(fields.priceAbove)) price['$gt'] = toCents(fields.priceAbove.trim());
  if (fields.priceBelow.trim() !== '' && isPrice(fields.priceBelow)) price['$lt'] = toCents(fields.priceBelow.trim());
  if (Object.keys(price).length > 0) filter['course.price_cents'] = price;
  return Object.keys(filter).length === 0 ? null : filter;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The builder's fields for a filter it can show, or null for one it cannot (then it is shown as JSON only). */
export function fieldsOfFilter(filter: PayloadFilter | null | undefined): FilterBuilderFields | null {
  if (!filter) return emptyBuilderFields;
  const fields = { ...emptyBuilderFields };
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'course.id' && typeof value === 'string') fields.courseId = value;
    else if (key === 'phase' && typeof value === 'string') fields.phase = value;
    else if (key === 'course.price_cents' && isObject(value) && Object.keys(value).every((op) => op === '$gt' || op === '$lt')) {
      const { $gt: above, $lt: below } = value;
      if ((above !== undefined && typeof above !== 'number') || (below !== undefined && typeof below !== 'number')) return null;
      if (typeof above === 'number') fields.priceAbove = fromCents(above);
      if (typeof below === 'number') fields.priceBelow = fromCents(below);
    } else return null;
  }
  return fields;
}
