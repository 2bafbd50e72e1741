// CPU seconds and peak resident memory of a process, from /proc (Linux).
// Peak RSS is VmHWM, the kernel's high-water mark; writing 5 to clear_refs
// resets it, so each scenario reports its own peak, not the process's
// lifetime peak (start-up included).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const clockTicksPerSecond = 100; // USER_HZ: 100 on every Linux ABI Node supports

export interface ProcSample {
  /** user + system CPU seconds since the process started */
  cpuSeconds: number;
  /** of which in the kernel (system calls: sockets, pipes) */
  systemSeconds: number;
  rssMb: number;
  peakRssMb: number;
}

export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / clockTicksPerSecond, systemSeconds: stime / clockTicksPerSecond, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS; false where the kernel does not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface ProcessFigures {
  cpuSeconds: number;
  systemSeconds?: number;
  /** CPU seconds per wall second over the window (1.0 = one core busy). */
  cores: number;
  peakRssMb: number;
}

/**
 * Watches named processes over a scenario: CPU used between start and stop,
 * and the peak RSS (VmHWM after a reset, and sampled VmRSS where the reset is
 * not allowed).
 */
export class ProcessWatch {
  private readonly first = new Map<string, ProcSample>();
  private readonly sampledPeak = new Map<string, number>();
  private readonly hwmReset = new Map<string, boolean>();
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly pids: Record<string, number>;

  constructor(pids: Record<string, number>) {
    this.pids = pids;
  }

  start(): void {
    this.startedAt = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) {
      this.hwmReset.set(name, resetPeakRss(pid));
      const sample = readProc(pid);
      if (sample) this.first.set(name, sample);
      this.sampledPeak.set(name, sample?.rssMb ?? 0);
    }
    this.timer = setInterval(() => {
      for (const [name, pid] of Object.entries(this.pids)) {
        const rss = readProc(pid)?.rssMb ?? 0;
        if (rss > (this.sampledPeak.get(name) ?? 0)) this.sampledPeak.set(name, rss);
      }
    }, 250);
    this.timer.unref();
  }

  stop(): Record<string, ProcessFigures> {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    const figures: Record<string, ProcessFigures> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const last = readProc(pid);
      const first = this.first.get(name);
      if (!last || !first) continue;
      const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
      const peak = this.hwmReset.get(name) ? last.peakRssMb : Math.max(this.sampledPeak.get(name) ?? 0, last.rssMb);
      figures[name] = { cpuSeconds: round(cpuSeconds, 2), systemSeconds: round(last.systemSeconds - first.systemSeconds, 2), cores: round(cpuSeconds / Math.max(seconds, 0.001), 2), peakRssMb: round(peak, 1) };
    }
    return figures;
  }
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Pids whose command line contains every one of the given strings. */
export function findPids(...needles: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (needles.every((n) => cmdline.includes(n))) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

/**
 * CPU of a group of processes that come and go (PostgreSQL backends of one
 * database, the Kafka broker): the processes found at the end, less what each
 * had used at the start.
 */
export class GroupCpuWatch {
  private readonly first = new Map<number, number>();
  private startedAt = 0;

  private readonly find: () => number[];

  constructor(find: () => number[]) {
    this.find = find;
  }

  start(): void {
    this.startedAt = performance.now();
    this.first.clear();
    for (const pid of this.find()) this.first.set(pid, readProc(pid)?.cpuSeconds ?? 0);
  }

  stop(): { cpuSeconds: number; cores: number; processes: number } {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let cpu = 0;
    const pids = this.find();
    for (const pid of pids) cpu += (readProc(pid)?.cpuSeconds ?? 0) - (this.first.get(pid) ?? 0);
    return { cpuSeconds: round(cpu, 2), cores: round(cpu / Math.max(seconds, 0.001), 2), processes: pids.length };
  }
}

/** CPU seconds the whole machine spent busy (every process, kernel included), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicksPerSecond;
}
