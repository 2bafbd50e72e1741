/**
 * The recent status events of each partner, for the live stream, and the
 * stream's resume positions.
 *
 * A position (the SSE event id) is a vector: for each partition of the status
 * topic, the highest offset of it the client has been sent, e.g. `0:15,2:7`.
 * Kafka offsets are the same on every delivery instance, so a client may
 * resume on any instance, and within a partition they only grow, so "every
 * buffered event past the vector" is exactly what the client has not seen.
 * A partition absent from the vector has sent the client nothing: every
 * buffered event of it is replayed (at worst a repeat, never a loss).
 */
export type StreamPosition = ReadonlyMap<number, bigint>;

export interface StreamEntry {
  partition: number;
  offset: bigint;
  partnerId: string;
  type: string;
  eventId: string;
  webhookId: string;
  purchaseId: string;
  occurredAt: string;
  /** The exact webhook body, as delivery sends it to endpoints. */
  body: string;
  /** When this instance read it (ms since the epoch). */
  receivedAt: number;
}

export interface StreamBufferOptions {
  /** Most events kept per partner. */
  perPartner: number;
  /** How long an event is kept (ms). */
  windowMs: number;
  now: () => number;
}

interface PartnerBuffer {
  entries: StreamEntry[];
  /** Per partition, the highest offset dropped from this partner's buffer. */
  dropped: Map<number, bigint>;
}

const positionPattern = /^(?:\d{1,6}:\d{1,19})(?:,\d{1,6}:\d{1,19})*$/;

export function encodePosition(position: StreamPosition): string {
  return [...position.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}:${offset}`)
    .join(',');
}

/** The position in an SSE id; undefined when it is not one we wrote. An empty id is the start of an empty topic. */
export function parsePosition(text: string): Map<number, bigint> | undefined {
  if (text === '') return new Map();
  if (!positionPattern.test(text)) return undefined;
  return new Map(
    text
      .split(',')
      .map((pair) => pair.split(':'))
      .map(([p, o]) => [Number(p), BigInt(o ?? '0')]),
  );
}

export function advance(position: Map<number, bigint>, entry: Pick<StreamEntry, 'partition' | 'offset'>): void {
  const seen = position.get(entry.partition);
  if (seen === undefined || entry.offset > seen) position.set(entry.partition, entry.offset);
}

function isPast(position: StreamPosition, entry: Pick<StreamEntry, 'partition' | 'offset'>): boolean {
  const seen = position.get(entry.partition);
  return seen === undefined || entry.offset > seen;
}

export class StreamBuffer {
  private readonly partners = new Map<string, PartnerBuffer>();
  private readonly highWater = new Map<number, bigint>();

  constructor(private readonly options: StreamBufferOptions) {
    if (!(options.perPartner >= 1)) throw new RangeError('perPartner must be ≥ 1');
  }

  /** Adds an event; false when it was already added (a redelivered offset). */
  add(entry: StreamEntry): boolean {
    if (!isPast(this.highWater, entry)) return false;
    advance(this.highWater, entry);
    let buffer = this.partners.get(entry.partnerId);
    if (!buffer) {
      buffer = { entries: [], dropped: new Map() };
      this.partners.set(entry.partnerId, buffer);
    }
    buffer.entries.push(entry);
    this.trim(buffer);
    return true;
  }

  /** Where a new client starts: past everything read so far. */
  currentPosition(): Map<number, bigint> {
    return new Map(this.highWater);
  }

  /**
   * The partner's buffered events past `position`, oldest first, and whether
   * some were already dropped (the client was away longer than the buffer).
   */
  since(partnerId: string, position: StreamPosition): { entries: StreamEntry[]; gap: boolean } {
    const buffer = this.partners.get(partnerId);
    if (!buffer) return { entries: [], gap: false };
    this.trim(buffer);
    const gap = [...buffer.dropped].some(([partition, offset]) => {
      const seen = position.get(partition);
      return seen !== undefined && offset > seen;
    });
    return { entries: buffer.entries.filter((entry) => isPast(position, entry)), gap };
  }

  /** Drops expired events and partners with nothing left. */
  sweep(): void {
    for (const [partnerId, buffer] of this.partners) {
      this.trim(buffer);
      if (buffer.entries.length === 0 && buffer.dropped.size === 0) this.partners.delete(partnerId);
      // A partner idle past the window: forget what was dropped too (nobody can still resume into it).
      else if (buffer.entries.length === 0) this.partners.delete(partnerId);
    }
  }

  get size(): number {
    let total = 0;
    for (const buffer of this.partners.values()) total += buffer.entries.length;
    return total;
  }

  private trim(buffer: PartnerBuffer): void {
    const oldest = this.options.now() - this.options.windowMs;
    let drop = 0;
    while (drop < buffer.entries.length && (buffer.entries.length - drop > this.options.perPartner || buffer.entries[drop]!.receivedAt < oldest)) drop++;
    for (const entry of buffer.entries.splice(0, drop)) advance(buffer.dropped, entry);
  }
}
