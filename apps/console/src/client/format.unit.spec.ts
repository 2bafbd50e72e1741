import { linePath, localInputToIso, maskSecret, niceMax } from './format';
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

  it('converts datetime-local values and masks secrets', () => {
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('nonsense')).toBeUndefined();
    expect(localInputToIso('2026-11-27T10:30')).toBe(new Date(2026, 10, 27, 10, 30).toISOString());
    expect(maskSecret('whsec_abcdefghijklmnopqrstuvwxyz0123')).toBe('whsec_••••••••0123');
    expect(maskSecret('short')).toBe('••••');
  });
});
