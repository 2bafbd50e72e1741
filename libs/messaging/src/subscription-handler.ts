import type { IncomingMessage, SubscribeOptions } from './event-transport';

export type Handler = { kind: 'message'; handle: (message: IncomingMessage) => Promise<void> } | { kind: 'batch'; handleBatch: (messages: IncomingMessage[]) => Promise<void> };

export type TransportLog = (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;

/** The one handler of a subscription; the port's types allow exactly one, and so does this check at run time. */
export function handlerOf(options: SubscribeOptions): Handler {
  const { handle, handleBatch } = options as Partial<Record<'handle' | 'handleBatch', unknown>>;
  if (typeof handle === 'function' && handleBatch === undefined) {
    return { kind: 'message', handle: handle.bind(options) as (message: IncomingMessage) => Promise<void> };
  }
  if (typeof handleBatch === 'function' && handle === undefined) {
    return { kind: 'batch', handleBatch: handleBatch.bind(options) as (messages: IncomingMessage[]) => Promise<void> };
  }
  throw new TypeError('subscribe needs exactly one of handle and handleBatch');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
