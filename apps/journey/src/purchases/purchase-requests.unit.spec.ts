import { openPurchaseBody, openPurchaseExample } from './purchase-requests';

// The request an API document's "Try it out" sends must be one the service takes, and the nonsense the old
// document pre-filled (an invented currency, a price of a billion reais) must be refused, naming the field.
describe('the open-purchase request', () => {
  const issuesOf = (course: Record<string, unknown>) => {
    const parsed = openPurchaseBody.safeParse({ ...openPurchaseExample, course: { ...openPurchaseExample.course, ...course } });
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
  };

  it('takes the documented example: a Brazilian course in BRL', () => {
    expect(openPurchaseBody.safeParse(openPurchaseExample).success).toBe(true);
    expect(openPurchaseExample.course.currency).toBe('BRL');
  });

  it('takes other ISO 4217 currencies and a price of up to a million', () => {
    expect(issuesOf({ currency: 'USD' })).toEqual([]);
    expect(issuesOf({ currency: 'EUR', price_cents: 100_000_000 })).toEqual([]);
    expect(issuesOf({ price_cents: 0 })).toEqual([]);
  });

  it('refuses a currency that is no ISO 4217 code, and a price past a million', () => {
    expect(issuesOf({ currency: 'NLX' })).toEqual(['course.currency']);
    expect(issuesOf({ currency: 'brl' })).toEqual(['course.currency']);
    expect(issuesOf({ price_cents: 100_000_000_000 })).toEqual(['course.price_cents']);
    expect(issuesOf({ price_cents: 100_000_001 })).toEqual(['course.price_cents']);
  });
});
