import { answerWithin, backoffDelayMs } from './transport-timing';

describe('backoffDelayMs', () => {
  it('doubles from the initial wait per attempt, up to the max, with the redelivery defaults (200 ms, 30 s)', () => {
    expect([1, 2, 3, 4, 8, 9, 1000].map((attempt) => backoffDelayMs(attempt, undefined))).toEqual([200, 400, 800, 1600, 25_600, 30_000, 30_000]);
  });

  it('takes each bound given, and the defaults for the others', () => {
    expect([1, 2, 3].map((attempt) => backoffDelayMs(attempt, { initial: 10 }))).toEqual([10, 20, 40]);
    expect([1, 2, 3].map((attempt) => backoffDelayMs(attempt, { max: 300 }))).toEqual([200, 300, 300]);
    expect([1, 2, 6].map((attempt) => backoffDelayMs(attempt, undefined, { initial: 100, max: 2_000 }))).toEqual([100, 200, 2_000]);
  });
});

describe('answerWithin', () => {
  it('gives the answer of a check that settles in time, and its failure', async () => {
    await expect(answerWithin('the probe', 1_000, Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(answerWithin('the probe', 1_000, Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });

  it('fails a check that has not settled by the deadline, naming what did not answer', async () => {
    await expect(answerWithin('PostgreSQL', 20, new Promise(() => undefined))).rejects.toThrow('PostgreSQL did not answer within 20 ms');
  });
});
