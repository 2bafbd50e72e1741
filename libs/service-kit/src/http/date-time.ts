import { z } from 'zod';

/** Real time zones lie between UTC−12:00 and UTC+14:00; RFC 3339's syntax allows ±23:59, which PostgreSQL refuses past ±15:59. */
const maxOffsetMinutes = 14 * 60;
const earliest = Date.UTC(1970, 0, 1);
const latest = Date.UTC(10000, 0, 1);

function offsetMinutes(value: string): number {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  return offset ? Number(offset[2]) * 60 + Number(offset[3]) : 0;
}

/**
 * Every date-time a request carries (a query parameter, a body field, a
 * cursor): RFC 3339 with an offset (`2026-01-01T00:00:00Z`,
 * `…-03:00`), the offset within ±14:00, the instant within the years
 * 1970–9999 (UTC). Parsed once here and handed on as UTC (`…Z`), so
 * PostgreSQL never sees the offset; anything else is 400 naming the field.
 */
export const dateTimeParameter = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z' })
  .superRefine((value, context) => {
    if (offsetMinutes(value) > maxOffsetMinutes) context.addIssue({ code: 'custom', message: 'the UTC offset must be within ±14:00' });
    const instant = Date.parse(value);
    if (!(instant >= earliest && instant < latest)) context.addIssue({ code: 'custom', message: 'must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z' });
  })
  .transform((value) => new Date(value).toISOString())
  .describe('RFC 3339 date-time with an offset within ±14:00 (e.g. 2026-01-01T00:00:00Z), between 1970 and 9999.');

/** A date-time from elsewhere than a zod schema (e.g. inside a cursor), by the same rule; undefined when it breaks it. */
export function parseDateTime(value: string): string | undefined {
  const parsed = dateTimeParameter.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
