// Where a process's CPU went, from a V8 .cpuprofile (`node --cpu-prof`):
// self time by package (our libraries, npm packages, Node's internals, the
// garbage collector) and the hottest functions.
//
//   node tools/bench/profile-summary.mts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Wall time the profile covers, and the part of it the thread was not idle. */
  seconds: number;
  busySeconds: number;
  byPackage: { name: string; seconds: number; share: number }[];
  topFunctions: { name: string; where: string; seconds: number; share: number }[];
  /**
   * Each sample charged to the nearest of our own functions on its stack (so
   * the pg, kafkajs or undici work a function of ours asked for is counted
   * with it); samples with none of ours on the stack stay with their package.
   */
  byOurCaller: { name: string; seconds: number; share: number }[];
}

/** `@gancho/delivery`, `pg`, `node:internal/streams`, `(garbage collector)`… */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}` : parts[0]}`.replace(/\.js$/, '');
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const ours = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (ours) return `@gancho/${ours[2]}`;
  return url;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const ourCaller = (id: number): string | undefined => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      const ours = frame && /\/(apps|libs)\/([^/]+)\/dist\/(.*)$/.exec(frame.url);
      if (frame && ours) return `${frame.functionName || '(anonymous)'} (${ours[1]}/${ours[2]}/${ours[3]})`;
    }
    return undefined;
  };
  const callers = new Map<string, number>();
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; micros: number }>();
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const caller = ourCaller(id) ?? `${pkg} (no function of ours on the stack)`;
    callers.set(caller, (callers.get(caller) ?? 0) + micros);
    const where = url ? `${url.replace(/^.*\/(node_modules|apps|libs)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  const busy = total - idle;
  const share = (micros: number) => Math.round((micros / Math.max(busy, 1)) * 1000) / 10;
  const seconds = (micros: number) => Math.round(micros / 10_000) / 100;
  return {
    seconds: seconds(total),
    busySeconds: seconds(busy),
    byPackage: [...packages]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, seconds: seconds(micros), share: share(micros) })),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, seconds: seconds(f.micros), share: share(f.micros) })),
    byOurCaller: [...callers]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, seconds: seconds(micros), share: share(micros) })),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function formatProfileSummary(summary: ProfileSummary, top = 15): string {
  const lines = [`profile: ${summary.seconds} s, busy ${summary.busySeconds} s (shares below are of busy time)`, '  by package (self time):'];
  for (const p of summary.byPackage.slice(0, top)) lines.push(`    ${String(p.share).padStart(5)} %  ${p.seconds.toFixed(2).padStart(7)} s  ${p.name}`);
  lines.push('  by the nearest function of ours on the stack (inclusive of what it called):');
  for (const c of summary.byOurCaller.slice(0, top)) lines.push(`    ${String(c.share).padStart(5)} %  ${c.seconds.toFixed(2).padStart(7)} s  ${c.name}`);
  lines.push('  hottest functions (self time):');
  for (const f of summary.topFunctions.slice(0, top)) lines.push(`    ${String(f.share).padStart(5)} %  ${f.seconds.toFixed(2).padStart(7)} s  ${f.name}  ${f.where}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.mts <file.cpuprofile> [top]');
  const top = Number(process.argv[3] ?? 20);
  console.log(formatProfileSummary(summarizeProfile(readProfile(file), top), top));
}
