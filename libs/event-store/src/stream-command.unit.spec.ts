import { StreamVersionConflictError } from './errors';
import { decideOnStream, eventsToAppend, foldStream, type StreamCommand, type StreamModel } from './stream-command';

// Scenarios for the pure part of the stream-command helper (given events / when command / then events):
// - a stream folds from the initial state in order; an empty stream is the initial state at version 0;
// - the version read is the last event's; a caller that expected another version gets a conflict
//   before anything is decided;
// - the decision sees the state before and the result has the state after its events; no events: unchanged;
// - each event to append carries the context's correlation and trace context and its own metadata,
//   made from the state before that event (not before the whole command).

type CounterEvent = { type: 'Added'; data: { amount: number } } | { type: 'Reset'; data: Record<string, never> };
type Counter = { total: number; changes: number };
const counter: StreamModel<Counter, CounterEvent> = {
  initialState: { total: 0, changes: 0 },
  evolve: (state, event) => {
    switch (event.type) {
      case 'Added':
        return { total: state.total + event.data.amount, changes: state.changes + 1 };
      case 'Reset':
        return { total: 0, changes: state.changes + 1 };
      default: {
        const unhandled: never = event;
        return unhandled;
      }
    }
  },
};
const added = (amount: number, streamVersion: number) => ({ type: 'Added', data: { amount }, streamVersion });
const addTwice = (amount: number): StreamCommand<Counter, CounterEvent> => ({
  streamId: 'counter:1',
  type: 'AddTwice',
  decide: () => [
    { type: 'Added', data: { amount } },
    { type: 'Added', data: { amount } },
  ],
});

describe('the stream-command helper, pure part', () => {
  it('folds a stream from the initial state, in order', () => {
    expect(foldStream(counter, [])).toEqual({ total: 0, changes: 0 });
    expect(foldStream(counter, [added(2, 1), { type: 'Reset', data: {} }, added(5, 3)])).toEqual({ total: 5, changes: 3 });
  });

  it('decides on the state read and folds the decided events into the state after', () => {
    const seen: Counter[] = [];
    const decision = decideOnStream(counter, [added(1, 1), added(2, 2)], { ...addTwice(10), decide: (state) => (seen.push(state), addTwice(10).decide(state)) });

    expect(seen).toEqual([{ total: 3, changes: 2 }]);
    expect(decision).toEqual({
      version: 2,
      before: { total: 3, changes: 2 },
      events: [
        { type: 'Added', data: { amount: 10 } },
        { type: 'Added', data: { amount: 10 } },
      ],
      after: { total: 23, changes: 4 },
    });
  });

  it('reads a new stream at version 0, and a decision without events leaves the state as it was', () => {
    const decision = decideOnStream(counter, [], { streamId: 'counter:new', decide: () => [] });
    expect(decision).toEqual({ version: 0, before: counter.initialState, events: [], after: counter.initialState });
  });

  it('refuses a caller that expected another version before deciding anything', () => {
    const decide = jest.fn(() => [] as CounterEvent[]);
    const attempt = () => decideOnStream(counter, [added(1, 1), added(1, 2)], { streamId: 'counter:1', decide }, 1);

    expect(attempt).toThrow(StreamVersionConflictError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'STREAM_VERSION_CONFLICT', streamId: 'counter:1', expected: 1, actual: 2 }));
    expect(decide).not.toHaveBeenCalled();
    expect(decideOnStream(counter, [added(1, 1), added(1, 2)], addTwice(1), 2).version).toBe(2);
  });

  it('gives each event the context and its own metadata, made from the state before it', () => {
    const ids = ['id-1', 'id-2'];
    const events = eventsToAppend(
      counter,
      { before: { total: 3, changes: 2 }, events: addTwice(10).decide(counter.initialState) },
      { correlationId: 'corr-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'gancho=1' },
      (event, before) => ({ totalBefore: before.total, kind: event.type }),
      () => ids.shift() as string,
    );

    expect(events).toEqual([
      {
        eventId: 'id-1',
        type: 'Added',
        data: { amount: 10 },
        metadata: { correlationId: 'corr-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'gancho=1', totalBefore: 3, kind: 'Added' },
      },
      {
        eventId: 'id-2',
        type: 'Added',
        data: { amount: 10 },
        metadata: { correlationId: 'corr-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'gancho=1', totalBefore: 13, kind: 'Added' },
      },
    ]);
  });

  it('stores no correlation or trace keys the context does not have', () => {
    const [event] = eventsToAppend(counter, { before: counter.initialState, events: [{ type: 'Reset', data: {} }] }, { causationId: 'scheduler' });
    expect(event?.metadata).toEqual({ causationId: 'scheduler' });
    expect(event?.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
