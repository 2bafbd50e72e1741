// The API-path scenarios' table, the baseline comparison (baseline, current
// and current ÷ baseline per scenario) and the summary fields.
import { round } from '../proc-stats.mts';
import type { ApiResult } from './api-path.mts';

function markdown(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i <= 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

const n = (v: number | undefined) => (v === undefined ? '-' : String(v));

/** One row per scenario and build: latency from accepted, CPU per delivery by process, statements, queue, losses. */
export function apiTable(results: ApiResult[]): string {
  const header = ['scenario', 'build', 'accepted/s', 'deliv/s', 'p50 ms', 'p99 ms', 'µs/deliv all', 'journey', 'subs', 'delivery', 'pg', 'kafka', 'stmts/deliv', 'commits/deliv', 'queued', 'lost', 'dups', 'other cores'];
  const rows = results.map((r) => {
    if (r.kind === 'idle') {
      const c = r.cores;
      return [
        r.name,
        r.build,
        '-',
        '-',
        '-',
        '-',
        `${c.platform} cores`,
        n(c.journey),
        n(c.subscriptions),
        n(c.delivery),
        n(c.postgres),
        r.transport === 'kafka' ? n(c.kafka) : '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        r.machine.otherCores.toFixed(2),
      ];
    }
    const u = r.cpuMicrosPerDelivery;
    return [
      r.name,
      r.build,
      n(r.acceptedPerSecond),
      n(r.deliveriesPerSecond),
      n(r.latencyMs.p50),
      n(r.latencyMs.p99),
      n(u.platform),
      n(u.journey),
      n(u.subscriptions),
      n(u.delivery),
      n(u.postgres),
      r.transport === 'kafka' ? n(u.kafka) : '-',
      n(r.database.statements),
      n(r.database.commits),
      r.drained ? n(r.queuedAtEnd) : `${r.queuedAtEnd} (undrained)`,
      r.drained ? n(r.lost) : `≤ ${r.lost}?`,
      n(r.duplicates),
      r.machine.otherCores.toFixed(2),
    ];
  });
  return markdown(header, rows);
}

/** The figures compared against the baseline, per scenario kind. */
function comparedFigures(r: ApiResult): [string, number][] {
  if (r.kind === 'idle') return [['platform cores', r.cores.platform ?? 0]];
  const figures: [string, number][] = [
    ['p50 ms', r.latencyMs.p50],
    ['p99 ms', r.latencyMs.p99],
    ['CPU µs/delivery', r.cpuMicrosPerDelivery.platform ?? 0],
    ['statements/delivery', r.database.statements],
  ];
  if (r.kind === 'saturate') figures.unshift(['deliveries/s', r.deliveriesPerSecond]);
  else figures.push(['queued at end', r.queuedAtEnd]);
  return figures;
}

const ratio = (current: number, baseline: number) => (baseline === 0 ? (current === 0 ? 1 : Number.POSITIVE_INFINITY) : round(current / baseline, 3));

/** Per scenario measured on both builds: each figure's baseline, current and current ÷ baseline. */
export function comparisonTable(results: ApiResult[]): string {
  const rows: string[][] = [];
  for (const current of results.filter((r) => r.build === 'current')) {
    const baseline = results.find((r) => r.build === 'baseline' && r.name === current.name);
    if (!baseline) continue;
    const before = new Map(comparedFigures(baseline));
    for (const [figure, value] of comparedFigures(current)) {
      const was = before.get(figure) ?? 0;
      rows.push([current.name, figure, String(was), String(value), String(ratio(value, was))]);
    }
  }
  return markdown(['scenario', 'figure', 'baseline', 'current', 'current ÷ baseline'], rows);
}

export interface ApiSummary {
  api50_cpu_us?: number;
  api50_p99_ms?: number;
  api_sat_per_s?: number;
  idle_cores?: number;
}

/** The summary fields: fan-out 1 on Kafka at 50 purchases/s and saturating, and the platform idle on Kafka. */
export function apiSummary(results: ApiResult[], build: ApiResult['build']): ApiSummary {
  const find = (name: string) => results.find((r) => r.build === build && r.name === name);
  return {
    api50_cpu_us: find('api-50-f1')?.cpuMicrosPerDelivery.platform,
    api50_p99_ms: find('api-50-f1')?.latencyMs.p99,
    api_sat_per_s: find('api-max-f1')?.deliveriesPerSecond,
    idle_cores: find('api-idle')?.cores.platform,
  };
}

/** `<field>_baseline` and `<field>_ratio` (current ÷ baseline) for each summary field both builds measured. */
export function baselineSummary(current: ApiSummary, baseline: ApiSummary): Record<string, number | undefined> {
  const fields: Record<string, number | undefined> = {};
  for (const key of Object.keys(current) as (keyof ApiSummary)[]) {
    const now = current[key];
    const was = baseline[key];
    fields[`${key}_baseline`] = was;
    fields[`${key}_ratio`] = now === undefined || was === undefined ? undefined : ratio(now, was);
  }
  return fields;
}

/** The issue's targets against the baseline (ratios current ÷ baseline). */
export function baselineTargets(results: ApiResult[]) {
  const pair = (name: string) => [results.find((r) => r.build === 'baseline' && r.name === name), results.find((r) => r.build === 'current' && r.name === name)] as const;
  const check = (target: string, name: string, pick: (r: ApiResult) => number, met: (ratio: number) => boolean) => {
    const [was, now] = pair(name);
    const measured = was && now ? ratio(pick(now), pick(was)) : undefined;
    return { target, measured, met: measured === undefined ? undefined : met(measured) };
  };
  return [
    check(
      'api-50-f1 CPU per delivery, all processes, ≥ 10× lower than the baseline (current ÷ baseline ≤ 0.1)',
      'api-50-f1',
      (r) => r.cpuMicrosPerDelivery.platform ?? 0,
      (v) => v <= 0.1,
    ),
    check(
      'api-50-f1 p99 ≥ 10× lower (≤ 0.1)',
      'api-50-f1',
      (r) => r.latencyMs.p99,
      (v) => v <= 0.1,
    ),
    check(
      'api-200-f1 p99 ≥ 20× lower (≤ 0.05)',
      'api-200-f1',
      (r) => r.latencyMs.p99,
      (v) => v <= 0.05,
    ),
    check(
      'api-max-f1 deliveries/s ≥ 8× the baseline',
      'api-max-f1',
      (r) => r.deliveriesPerSecond,
      (v) => v >= 8,
    ),
    check(
      'api-max-f10 deliveries/s ≥ 7× the baseline',
      'api-max-f10',
      (r) => r.deliveriesPerSecond,
      (v) => v >= 7,
    ),
    check(
      'api-idle platform cores ≥ 6× lower (≤ 0.167)',
      'api-idle',
      (r) => r.cores.platform ?? 0,
      (v) => v <= 1 / 6,
    ),
  ];
}
