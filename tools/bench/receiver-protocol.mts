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

/** Each healthy delivery seen for the first time since the reset: the purchase it is about and when it verified (ms since the epoch). */
export interface Arrivals {
  purchaseIds: string[];
  verifiedAt: number[];
}

export type ReceiverRequest =
  | { op: 'routes'; seq: number; routes: Record<string, { secrets: string[]; mode: RouteMode }> }
  /** `trackArrivals`: keep every first healthy delivery's purchase and time, for `arrivals` (the API-path scenarios). */
  | { op: 'reset'; seq: number; trackArrivals?: boolean }
  | { op: 'count' | 'stats' | 'arrivals' | 'release' | 'close'; seq: number };

export type ReceiverReply =
  | { op: 'ok' | 'listening'; seq: number; port?: number }
  | { op: 'count'; seq: number; received: number; verified: number; healthy: number }
  | { op: 'stats'; seq: number; stats: ReceiverStats }
  | { op: 'arrivals'; seq: number; arrivals: Arrivals };
