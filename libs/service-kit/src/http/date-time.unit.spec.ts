import { dateTimeParameter, parseDateTime } from './date-time';

describe('date-time parameters', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00.5+14:00', '2025-12-31T10:00:00.500Z'],
    ['2026-01-01T00:00:00-12:00', '2026-01-01T12:00:00.000Z'],
    ['2026-01-01T00:00:00-14:00', '2026-01-01T14:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
  ])('accepts %s as the UTC instant %s', (value, utc) => {
    expect(dateTimeParameter.parse(value)).toBe(utc);
  });

  it.each([
    ['2026-01-01T00:00:00-18:37', 'offset'],
    ['2026-01-01T00:00:00+20:00', 'offset'],
    ['2026-01-01T00:00:00+16:00', 'offset'],
    ['2026-01-01T00:00:00+14:01', 'offset'],
    ['2026-01-01T00:00:00+23:59', 'offset'],
    ['0000-01-01T00:00:00Z', '1970'],
    ['1969-12-31T23:59:59Z', '1970'],
    ['9999-12-31T23:59:59-01:00', '9999'],
    ['2026-01-01T00:00:00', 'RFC 3339'],
    ['2026-02-30T00:00:00Z', 'RFC 3339'],
    ['2026-01-01 00:00:00Z', 'RFC 3339'],
    ['tomorrow', 'RFC 3339'],
  ])('refuses %s (%s)', (value, reason) => {
    const result = dateTimeParameter.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join(' ')).toContain(reason);
    expect(parseDateTime(value)).toBeUndefined();
  });
});
