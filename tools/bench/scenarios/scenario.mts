// What every scenario module of the bench shares: the run it belongs to (its
// options, windows, receivers and the results it adds to), the shape of a
// result, and the shape of a module the registry (registry.mts) lists.
import type { ApiDurations, ApiResult } from '../api/api-path.mts';
import type { BaselineBuild } from '../api/baseline.mts';
import type { LatencySummary } from '../histogram.mts';
import type { DriveResult } from '../load.mts';
import type { ProcessFigures } from '../proc-stats.mts';
import type { ProfileSummary } from '../profile-summary.mts';
import type { ReceiverFleet } from '../receivers.mts';
import type { BenchPartner } from '../seed.mts';
import type { BenchPlatform } from './platform.mts';

/** The windows of one profile (smoke, quick, long). */
export interface Durations {
  httpCeilingMs: number;
  kafkaMessages: number;
  saturateMs: number;
  warmupMs: number;
  rateMs: number;
  drainMs: number;
}

/** Delivery's own caps, which the ceiling's client mirrors. */
export const dispatchConcurrency = 64;
/** Deliveries owed but not yet received, when offering as much as the platform takes. */
export const saturationBacklog = 1000;

export interface ScenarioResult {
  name: string;
  description: string;
  offered: string;
  deliveriesPerSecond: number;
  latencyMs: LatencySummary;
  processes: Record<string, ProcessFigures | { cpuSeconds: number; cores: number; processes: number }>;
  /** CPU microseconds the delivery process spent per healthy delivery. */
  deliveryCpuMicrosPerDelivery?: number;
  /** CPU microseconds per healthy delivery, by process (and all of them together). */
  cpuMicrosPerDelivery?: Record<string, number>;
  /** Cores busy during the scenario: all, the bench's processes, everything else (other work on the machine). */
  machine?: { cores: number; busyCores: number; benchCores: number; otherCores: number };
  /** Transactions committed and rows written per healthy delivery, by table. */
  database?: { commits: number; rowsWritten: Record<string, number> };
  ratioToCeiling?: number;
  receivers?: ReceiverFigures;
  drive?: DriveResult;
  extra?: Record<string, unknown>;
}

export interface ReceiverFigures {
  received: number;
  verified: number;
  unverified: number;
  duplicates: number;
  failed: number;
  hung: number;
}

export function pickReceiverStats(stats: ReceiverFigures): ReceiverFigures {
  const { received, verified, unverified, duplicates, failed, hung } = stats;
  return { received, verified, unverified, duplicates, failed, hung };
}

/** One `npm run bench`: its options, its receivers, and what its scenarios have measured so far. */
export interface BenchRun {
  /** `--name=value` of the command line. */
  option(name: string): string | undefined;
  /** Whether the run selected this scenario (`--only=…`, `--api`, the profile's default). */
  wants(name: string): boolean;
  profileName: string;
  durations: Durations;
  apiDurations: ApiDurations;
  runId: string;
  say(line: string): void;
  /** Seconds since the run began, for progress lines. */
  elapsed(): string;
  /** The shared PostgreSQL and Kafka (empty strings when no selected scenario needs them). */
  infraEnv: { DATABASE_URL: string; KAFKA_BROKERS: string };
  fleet: ReceiverFleet;
  receiverCount: number;
  receiverPids: Record<string, number>;
  /** Flags for the ceiling's client and the receivers, e.g. --ceiling-node-options=--max-semi-space-size=16. */
  ceilingNodeArgs: string[];
  /** The service run with --cpu-prof, if any, and where its profile goes. */
  profiledService: string | undefined;
  profileDir: string;
  baseline: BaselineBuild | undefined;
  /** Run last to first when the run ends, whether it failed or not. */
  cleanups: (() => Promise<unknown>)[];
  results: ScenarioResult[];
  apiResults: ApiResult[];
  platformInfo: Record<string, unknown>;
  /** The profiled service's CPU profile, summarised once it stopped. */
  serviceProfile?: ProfileSummary;
}

/**
 * A module of scenarios. Stages run in this order: `machine` (no platform in
 * between: the ceilings), `platform` (on one platform of the three built
 * services on the shared PostgreSQL and Kafka, started once for all of them;
 * each module's endpoints are published together before the first runs), and
 * `api` (the API path, on infrastructure of its own).
 */
export type ScenarioModule =
  | { stage: 'machine'; names: readonly string[]; /** Needs the shared PostgreSQL and Kafka. */ sharedInfra: boolean; run(bench: BenchRun): Promise<void> }
  | { stage: 'platform'; names: readonly string[]; prepare(platform: BenchPlatform): PlatformScenarios }
  | { stage: 'api'; names: readonly string[]; run(bench: BenchRun): Promise<void> };

/** A platform module's selected scenarios on a started platform: the endpoints they need routed, and the scenarios themselves. */
export interface PlatformScenarios {
  endpoints: BenchPartner[];
  run(): Promise<void>;
}
