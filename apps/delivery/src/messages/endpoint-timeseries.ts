import type { DataSource } from 'typeorm';

/** Bucket widths the time series offers, in seconds. */
export const timeseriesBuckets = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 } as const;
export type TimeseriesBucket = keyof typeof timeseriesBuckets;
/** More points than this is a request for raw data, not a chart. */
export const maxTimeseriesPoints = 1000;
/** What a bucket is chosen for when none is asked: a readable chart. */
const targetPoints = 120;

export interface TimeseriesPoint {
  /** RFC 3339 start of the bucket. */
  start: string;
  attempts: number;
  succeeded: number;
  failed: number;
  /** succeeded / attempts; null for a bucket with no attempt. */
  success_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null; max: number | null };
}

/** The bucket asked for, or the smallest that keeps the window within about 120 points. */
export function chooseBucket(windowMs: number, asked: TimeseriesBucket | undefined): { name: TimeseriesBucket; seconds: number } {
  if (asked) return { name: asked, seconds: timeseriesBuckets[asked] };
  const names = Object.keys(timeseriesBuckets) as TimeseriesBucket[];
  const name = names.find((n) => windowMs / (timeseriesBuckets[n] * 1000) <= targetPoints) ?? '1d';
  return { name, seconds: timeseriesBuckets[name] };
}

interface BucketRow {
  bucket: number;
  attempts: number;
  succeeded: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/**
 * Attempts to one endpoint in [since, until), per bucket from `since`, every
 * bucket present (empty ones with zero attempts) so a chart has no gaps.
 */
export async function endpointTimeseries(dataSource: DataSource, endpointId: string, since: Date, until: Date, bucketSeconds: number): Promise<TimeseriesPoint[]> {
  const count = Math.ceil((until.getTime() - since.getTime()) / (bucketSeconds * 1000));
  const rows: BucketRow[] = await dataSource.query(
    `SELECT floor(extract(epoch FROM finished_at - $2::timestamptz) / $4)::int AS bucket,
            count(*)::int AS attempts,
            count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
            max(latency_ms) AS max
       FROM attempts
      WHERE endpoint_id = $1 AND finished_at >= $2 AND finished_at < $3
      GROUP BY 1`,
    [endpointId, since.toISOString(), until.toISOString(), bucketSeconds],
  );
  const byBucket = new Map(rows.map((row) => [row.bucket, row]));
  return Array.from({ length: count }, (_, i) => {
    const row = byBucket.get(i);
    const attempts = row?.attempts ?? 0;
    const succeeded = row?.succeeded ?? 0;
    return {
      start: new Date(since.getTime() + i * bucketSeconds * 1000).toISOString(),
      attempts,
      succeeded,
      failed: attempts - succeeded,
      success_rate: attempts === 0 ? null : succeeded / attempts,
      latency_ms: { p50: row?.p50 ?? null, p95: row?.p95 ?? null, max: row?.max ?? null },
    };
  });
}
