import type { EntityManager } from 'typeorm';

/** Correlation and trace context travel with every event, so the outbox can put them on the Kafka headers. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** W3C trace context of the command that produced the event. */
  traceparent?: string;
  tracestate?: string;
  [key: string]: unknown;
}

/** An event to append; the caller chooses its id (a UUID), so a retried command can reuse it. */
export interface NewEvent<T extends object = object> {
  eventId: string;
  type: string;
  data: T;
  metadata: EventMetadata;
}

/**
 * An event as stored. `globalPosition` is a `bigint` because the column is
 * `bigint` and a JavaScript number is exact only to 2^53; it is not
 * JSON-serialisable as is (`String(position)` it first).
 */
export interface StoredEvent<T = unknown> {
  eventId: string;
  globalPosition: bigint;
  streamId: string;
  /** 1 for the first event of a stream, then +1 per event. */
  streamVersion: number;
  type: string;
  data: T;
  metadata: EventMetadata;
  recordedAt: Date;
}

/**
 * The version the caller last saw: a stream that has events is at the version
 * of its last event (the first event is version 1), a stream with none is at 0.
 * `'no_stream'` (the same as 0) requires that the stream has no events yet;
 * `'any'` skips the check.
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

/** One statement of SQL with its own `$1`, `$2`… and their values. */
export interface SqlPart {
  sql: string;
  parameters: unknown[];
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /**
   * An EntityManager inside the caller's transaction (READ COMMITTED): the
   * append commits or rolls back with it. Without one, the append is one
   * statement of its own, which commits or fails whole.
   */
  manager?: EntityManager;
  /**
   * Writes that commit with the events, in the same statement, each
   * conditioned on `WHEN_APPENDED` (a read model's row).
   */
  alongside?: SqlPart[];
}

export interface GatedAppendOptions extends AppendOptions {
  /**
   * A write (`INSERT … RETURNING`) whose rows let the append go ahead, such
   * as claiming an idempotency key; when it returns none, nothing is written.
   */
  gate: SqlPart;
}

export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` to append again. */
  nextExpectedVersion: number;
  lastGlobalPosition: bigint;
}

/** What a gated append did: appended, or stopped by its gate (nothing written). */
export type GatedAppendResult = ({ appended: true } & AppendResult) | { appended: false };

export interface ReadOptions {
  /** Read inside the caller's transaction, e.g. before appending in it. */
  manager?: EntityManager;
}

export interface ReadStreamOptions extends ReadOptions {
  /** First version to return; 1 (the whole stream) by default. */
  fromVersion?: number;
}

export interface ReadAllOptions {
  /** The `globalPosition` of the last event the reader handled, or 0n to start at the beginning. */
  after: bigint;
  limit: number;
}

/** A page of `readPage`: the events, and whether committed ones past them are held back by an open older transaction. */
export interface ReadPage<T = unknown> {
  events: StoredEvent<T>[];
  heldBack: boolean;
}
