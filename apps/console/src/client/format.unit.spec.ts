import { formatDateTimeInput, linePath, maskSecret, niceMax, parseDateTimeInput } from './format';
import { dictionaries, translate } from './i18n';

describe('the page’s pure helpers', () => {
  it('has every message in both languages, with the same placeholders', () => {
    const pt = dictionaries['pt-BR'];
    const en = dictionaries.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(pt).sort());
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(pt) as (keyof typeof pt)[]) {
      expect({ key, placeholders: placeholders(en[key]) }).toEqual({ key, placeholders: placeholders(pt[key]) });
      expect(en[key].trim()).not.toBe('');
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('pt-BR', 'recover.done', { count: 3 })).toBe('3 mensagens reenviadas.');
    expect(translate('en', 'recover.done', { count: 3 })).toBe('3 messages resent.');
    expect(translate('en', 'recover.done')).toBe('{count} messages resent.');
  });

  it('rounds chart maxima up to 1, 2 or 5 × 10ⁿ', () => {
    expect([0, 0.4, 1, 1.2, 3, 7, 12, 180, 999].map((v) => niceMax(v))).toEqual([1, 1, 1, 2, 5, 10, 20, 200, 1000]);
  });

  it('draws a line that breaks where a bucket has no data', () => {
    expect(linePath([0, 50, null, 100], 300, 100, 100)).toBe('M0.0,100.0 L100.0,50.0 M300.0,0.0');
    expect(linePath([], 300, 100, 100)).toBe('');
    expect(linePath([5], 300, 100, 10)).toBe('M150.0,50.0');
  });

  it('reads and writes typed dates in each language’s format, 24-hour, refusing days that do not exist', () => {
    const at = new Date(2026, 10, 27, 14, 30).toISOString();
    expect(parseDateTimeInput('27/11/2026 14:30', 'pt-BR')).toBe(at);
    expect(parseDateTimeInput('2026-11-27 14:30', 'en')).toBe(at);
    expect(parseDateTimeInput('27/11/2026', 'pt-BR')).toBe(new Date(2026, 10, 27).toISOString());
    expect(formatDateTimeInput(at, 'pt-BR')).toBe('27/11/2026 14:30');
    expect(formatDateTimeInput(at, 'en')).toBe('2026-11-27 14:30');
    expect(parseDateTimeInput('  ', 'pt-BR')).toBeUndefined();
    // The browser's en-US order, a 12-hour time, a 31 February, a 24:00: not dates of pt-BR.
    for (const text of ['11/27/2026 14:30', '27/11/2026 2:30 PM', '31/02/2026 10:00', '27/11/2026 24:00', 'amanhã']) expect(parseDateTimeInput(text, 'pt-BR')).toBeNull();
    expect(parseDateTimeInput('27/11/2026 14:30', 'en')).toBeNull();
  });

  it('masks secrets', () => {
    expect(maskSecret('whsec_abcdefghijklmnopqrstuvwxyz0123')).toBe('whsec_••••••••0123');
    expect(maskSecret('short')).toBe('••••');
  });
});
