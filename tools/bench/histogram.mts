// A latency histogram with 1 ms buckets up to 10 s and 100 ms buckets up to
// 10 min: exact enough for p50…max of webhook latencies, small enough to send
// between processes and add up.
const fineLimitMs = 10_000;
const coarseStepMs = 100;
const coarseLimitMs = 600_000;
const fineBuckets = fineLimitMs;
const buckets = fineBuckets + (coarseLimitMs - fineLimitMs) / coarseStepMs + 1;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class Histogram {
  readonly counts: Uint32Array;
  count = 0;
  sum = 0;
  max = 0;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(buckets);
  }

  record(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const i = v < fineLimitMs ? Math.floor(v) : Math.min(buckets - 1, fineBuckets + Math.floor((v - fineLimitMs) / coarseStepMs));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  add(other: SerializedHistogram): void {
    for (const [i, n] of other.buckets) this.counts[i] = (this.counts[i] ?? 0) + n;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  /** The upper edge of the bucket holding the q-quantile. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, i < fineBuckets ? i + 1 : fineLimitMs + (i - fineBuckets + 1) * coarseStepMs);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: Math.round(this.max),
      mean: this.count === 0 ? 0 : Math.round((this.sum / this.count) * 10) / 10,
    };
  }

  serialize(): SerializedHistogram {
    const nonZero: [number, number][] = [];
    this.counts.forEach((n, i) => {
      if (n > 0) nonZero.push([i, n]);
    });
    return { buckets: nonZero, count: this.count, sum: this.sum, max: this.max };
  }
}

export interface SerializedHistogram {
  buckets: [number, number][];
  count: number;
  sum: number;
  max: number;
}
