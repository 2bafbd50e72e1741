import { Topics } from './topics';

describe('topic names', () => {
  it('follow service.thing.vN', () => {
    for (const topic of Object.values(Topics)) {
      expect(topic).toMatch(/^[a-z]+\.[a-z-]+\.v\d+$/);
    }
  });

  it('are unique', () => {
    const names = Object.values(Topics);
    expect(new Set(names).size).toBe(names.length);
  });
});
