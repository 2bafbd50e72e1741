// Messages between the bench and its receiver processes.
import type { SerializedHistogram } from './histogram.mts';

/** ok: 204; fail: 500; hang: never answers until released (the sender's timeout ends it). */
export type RouteMode = 'ok' | 'fail' | 'hang';

export interface ReceiverStats {
  received: number;
  verified: number;
  /** Verified and answered 2xx (the "healthy" endpoints): these feed the latency. */
  healthyVerified: number;
  unverified: number;
  unknownPath: number;
  failed: number;
  hung: number;
  /** A webhook-id seen again since the last reset (retries, redelivery). */
  duplicates: number;
  firstAt: number;
  lastAt: number;
  latency: SerializedHistogram;
}

export type ReceiverRequest =
  | { op: 'routes'; seq: number; routes: Record<string, { secrets: string[]; mode: RouteMode }> }
  | { op: 'reset' | 'count' | 'stats' | 'release' | 'close'; seq: number };

export type ReceiverReply =
  | { op: 'ok' | 'listening'; seq: number; port?: number }
  | { op: 'count'; seq: number; received: number; verified: number; healthy: number }
  | { op: 'stats'; seq: number; stats: ReceiverStats };
