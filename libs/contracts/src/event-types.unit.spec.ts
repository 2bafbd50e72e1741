import { eventTypes, isEventType, matchesEventTypeFilter, statusOfEventType, validateEventTypeFilter, type EventType } from './event-types';

describe('event types', () => {
  it('are one per status', () => {
    expect(eventTypes).toHaveLength(41);
    expect(eventTypes).toContain('purchase.made_effective');
  });

  it.each(['purchase', 'purchase.', 'purchase.unknown', 'purchase.*', '*', 'purchases.made_effective', 'PURCHASE.made_effective', 'purchase.made_effective.x'])('refuses %p as an event type', (value) => {
    expect(isEventType(value)).toBe(false);
  });

  it('refuses to give the status of a string that is not an event type', () => {
    expect(() => statusOfEventType('purchase.nope' as EventType)).toThrow(TypeError);
  });
});

describe('event-type filters', () => {
  it('accept exact types, the purchase prefix and everything', () => {
    expect(validateEventTypeFilter(['purchase.made_effective', 'purchase.link_inactive'])).toEqual([]);
    expect(validateEventTypeFilter(['purchase.*'])).toEqual([]);
    expect(validateEventTypeFilter(['*'])).toEqual([]);
    expect(validateEventTypeFilter([])).toEqual([]);
  });

  it('return the entries that are unknown or malformed, in order', () => {
    const filter = ['purchase.made_effective', 'purchase.nonexistent', 'refund.*', 'purchase.*.x', '*.made_effective', 'purchase*', 'purchase.', '', '**', 'Purchase.*', 'purchase.made_*'];
    expect(validateEventTypeFilter(filter)).toEqual(filter.slice(1));
  });

  it('match exact types only exactly', () => {
    expect(matchesEventTypeFilter(['purchase.made_effective'], 'purchase.made_effective')).toBe(true);
    expect(matchesEventTypeFilter(['purchase.made_effective'], 'purchase.effective')).toBe(false);
    expect(matchesEventTypeFilter(['purchase.paid', 'purchase.late'], 'purchase.late')).toBe(true);
  });

  it('match every purchase type with purchase.* and every type with *', () => {
    for (const type of eventTypes) {
      expect(matchesEventTypeFilter(['purchase.*'], type)).toBe(true);
      expect(matchesEventTypeFilter(['*'], type)).toBe(true);
    }
    expect(matchesEventTypeFilter(['purchase.*'], 'purchases.made_effective')).toBe(false);
    expect(matchesEventTypeFilter(['purchase.*'], 'purchase')).toBe(false);
  });

  it('match nothing when empty, and ignore invalid entries', () => {
    expect(matchesEventTypeFilter([], 'purchase.made_effective')).toBe(false);
    expect(matchesEventTypeFilter(['purchase.made_*'], 'purchase.made_effective')).toBe(false);
    expect(matchesEventTypeFilter(['purchase.nonexistent'], 'purchase.nonexistent')).toBe(false);
    expect(matchesEventTypeFilter(['purchase.made*'], 'purchase.made_effective')).toBe(false);
  });
});
