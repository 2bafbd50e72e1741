// The bench's report: the summary line's figures, the targets they are held
// against, and the table of the delivery scenarios.
import type { ProcessFigures } from './proc-stats.mts';
import { round } from './proc-stats.mts';
import type { ScenarioResult } from './scenarios/scenario.mts';

export function targetsOf(results: ScenarioResult[], summary: Record<string, number | undefined>) {
  const clean = results.find((r) => r.name === 'degraded-clean')?.latencyMs.p99;
  const degraded = summary.degraded_healthy_p99_ms;
  const platform = results.filter((r) => r.processes.delivery);
  const peakRss = platform.length ? Math.max(...platform.flatMap((r) => (['journey', 'subscriptions', 'delivery'] as const).map((s) => (r.processes[s] as ProcessFigures | undefined)?.peakRssMb ?? 0))) : undefined;
  const check = (target: string, measured: number | undefined, met: (v: number) => boolean) => ({ target, measured, met: measured === undefined ? undefined : met(measured) });
  return [
    check('delivery only ≥ 5,000 deliveries/s', summary.delivery_only_per_s, (v) => v >= 5000),
    check('e2e ≥ 2,000 deliveries/s', summary.e2e_per_s, (v) => v >= 2000),
    check('e2e p99 ≤ 250 ms at 500/s offered', summary.e2e_p99_ms, (v) => v <= 250),
    check('degraded healthy p99 within 20 % of the clean run', degraded !== undefined && clean ? round(degraded / clean, 2) : undefined, (v) => v <= 1.2),
    check('each service RSS ≤ 250 MB under load (MB)', peakRss, (v) => v <= 250),
  ];
}

export function table(results: ScenarioResult[]): string {
  const header = ['scenario', 'deliveries/s', 'p50', 'p95', 'p99', 'max ms', 'delivery CPU s', 'µs/deliv', 'RSS MB d/j/s', 'journey CPU s', 'subs CPU s', 'recv CPU s', 'pg CPU s', 'kafka CPU s', 'other cores', 'ratio'];
  const cpu = (r: ScenarioResult, name: string) => {
    const p = r.processes[name];
    return p ? p.cpuSeconds.toFixed(1) : '-';
  };
  const rss = (r: ScenarioResult, name: string) => {
    const p = r.processes[name] as ProcessFigures | undefined;
    return p?.peakRssMb ? String(Math.round(p.peakRssMb)) : '-';
  };
  const receiversCpu = (r: ScenarioResult) => {
    const sum = Object.entries(r.processes)
      .filter(([k]) => k.startsWith('receiver-'))
      .reduce((s, [, v]) => s + v.cpuSeconds, 0);
    return sum.toFixed(1);
  };
  const rows = results.map((r) => [
    r.name,
    String(r.deliveriesPerSecond),
    String(r.latencyMs.p50),
    String(r.latencyMs.p95),
    String(r.latencyMs.p99),
    String(r.latencyMs.max),
    cpu(r, 'delivery'),
    r.deliveryCpuMicrosPerDelivery ? String(r.deliveryCpuMicrosPerDelivery) : '-',
    r.processes.delivery ? `${rss(r, 'delivery')}/${rss(r, 'journey')}/${rss(r, 'subscriptions')}` : '-',
    cpu(r, 'journey'),
    cpu(r, 'subscriptions'),
    receiversCpu(r),
    cpu(r, 'postgres'),
    cpu(r, 'kafka'),
    r.machine ? r.machine.otherCores.toFixed(2) : '-',
    r.ratioToCeiling === undefined ? '-' : r.ratioToCeiling.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}
