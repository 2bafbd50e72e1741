import type { ExpectedVersion } from './types';

/**
 * Another writer changed the stream since the caller read it. Reread, decide
 * again and retry (HTTP 409, retryable). `actual` is the stream's version when
 * the append was refused.
 */
export class StreamVersionConflictError extends Error {
  readonly code = 'STREAM_VERSION_CONFLICT';

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
    message = `stream ${streamId} is at version ${actual}, expected ${String(expected)}`,
  ) {
    super(message);
    this.name = 'StreamVersionConflictError';
  }
}

/** An event with this id is already stored: the caller reused an event id (or is retrying a command that already succeeded). */
export class DuplicateEventIdError extends Error {
  readonly code = 'DUPLICATE_EVENT_ID';

  constructor(readonly streamId: string) {
    super(`an event appended to ${streamId} has an id that is already stored`);
    this.name = 'DuplicateEventIdError';
  }
}
