import { encodePosition, parsePosition, StreamBuffer, type StreamEntry } from './stream-buffer';

// Scenarios:
// - positions encode as "partition:offset,…" and parse back; anything else is refused;
// - since(position) gives exactly the partner's events past the position, per partition, in arrival order;
//   a partition missing from the position replays all of its buffered events;
// - a redelivered offset is not added twice;
// - the buffer keeps at most N events per partner and nothing older than the window; a client whose position
//   is older than what was dropped is told there is a gap.

let clock = 0;
const entry = (partnerId: string, partition: number, offset: number, at = clock): StreamEntry => ({
  partition,
  offset: BigInt(offset),
  partnerId,
  type: 'purchase.paid',
  eventId: `${partition}-${offset}`,
  webhookId: `msg_${partition}_${offset}`,
  purchaseId: 'pur_1',
  occurredAt: '2026-11-27T19:28:47.123Z',
  body: '{}',
  receivedAt: at,
});
const ids = (entries: StreamEntry[]) => entries.map((e) => e.eventId);

describe('stream positions', () => {
  it('encode sorted by partition and parse back', () => {
    const position = new Map([
      [2, 7n],
      [0, 15n],
    ]);
    expect(encodePosition(position)).toBe('0:15,2:7');
    expect(parsePosition('0:15,2:7')).toEqual(
      new Map([
        [0, 15n],
        [2, 7n],
      ]),
    );
    expect(parsePosition('')).toEqual(new Map());
  });

  it.each(['abc', '0:', ':5', '0:1;1:2', '0:-1', '0:1,'])('refuses %p', (text) => {
    expect(parsePosition(text)).toBeUndefined();
  });
});

describe('StreamBuffer', () => {
  beforeEach(() => (clock = 1_000_000));
  const make = (perPartner = 100, windowMs = 60_000) => new StreamBuffer({ perPartner, windowMs, now: () => clock });

  it("replays exactly the partner's events past a position, per partition", () => {
    const buffer = make();
    for (const e of [entry('a', 0, 1), entry('b', 0, 2), entry('a', 1, 1), entry('a', 0, 3), entry('a', 1, 2), entry('a', 2, 9)]) buffer.add(e);
    expect(
      ids(
        buffer.since(
          'a',
          new Map([
            [0, 1n],
            [1, 1n],
            [2, 9n],
          ]),
        ).entries,
      ),
    ).toEqual(['0-3', '1-2']);
    expect(
      ids(
        buffer.since(
          'a',
          new Map([
            [0, 3n],
            [1, 2n],
          ]),
        ).entries,
      ),
    ).toEqual(['2-9']);
    expect(ids(buffer.since('b', new Map()).entries)).toEqual(['0-2']);
    expect(buffer.since('nobody', new Map()).entries).toEqual([]);
  });

  it('starts a new client past everything read, and ignores a redelivered offset', () => {
    const buffer = make();
    expect(buffer.add(entry('a', 0, 5))).toBe(true);
    const start = buffer.currentPosition();
    expect(buffer.add(entry('a', 0, 5))).toBe(false);
    expect(buffer.add(entry('a', 0, 4))).toBe(false);
    buffer.add(entry('a', 0, 6));
    expect(ids(buffer.since('a', start).entries)).toEqual(['0-6']);
  });

  it('keeps at most N events per partner and reports a gap to a client older than what was dropped', () => {
    const buffer = make(3);
    for (let offset = 1; offset <= 5; offset++) buffer.add(entry('a', 0, offset));
    buffer.add(entry('b', 0, 6));
    expect(ids(buffer.since('a', new Map([[0, 0n]])).entries)).toEqual(['0-3', '0-4', '0-5']);
    expect(buffer.since('a', new Map([[0, 1n]])).gap).toBe(true);
    expect(buffer.since('a', new Map([[0, 2n]])).gap).toBe(false);
    expect(ids(buffer.since('b', new Map([[0, 0n]])).entries)).toEqual(['0-6']);
  });

  it('drops events older than the window, and forgets idle partners on sweep', () => {
    const buffer = make(100, 60_000);
    buffer.add(entry('a', 0, 1));
    clock += 30_000;
    buffer.add(entry('a', 0, 2));
    clock += 30_001;
    const { entries, gap } = buffer.since('a', new Map([[0, 0n]]));
    expect(ids(entries)).toEqual(['0-2']);
    expect(gap).toBe(true);
    clock += 60_000;
    buffer.sweep();
    expect(buffer.size).toBe(0);
  });
});
