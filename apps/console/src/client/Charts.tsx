import { TableWrap } from './ui';
import { useId } from 'react';
import type { TimeseriesPoint } from './api';
import { useI18n } from './core';
import { formatMs, formatPercent, formatTime, linePath, niceMax } from './format';

const width = 640;
const height = 160;

interface Line {
  name: string;
  values: (number | null)[];
  className: string;
}

/**
 * A line chart in inline SVG (no library; the CSP allows no inline script or
 * style). Screen readers get a summary, and the data as a table beside it.
 */
function LineChart({
  title,
  lines,
  max,
  format,
  points,
  bucket,
  until,
}: {
  title: string;
  lines: Line[];
  max: number;
  format(value: number): string;
  points: TimeseriesPoint[];
  bucket: string;
  until?: string | undefined;
}) {
  const { t, language } = useI18n();
  const id = useId();
  const total = points.reduce((sum, p) => sum + p.attempts, 0);
  const first = points[0]?.start;
  const last = points.at(-1)?.start;
  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <div className="chart-body">
        <div className="chart-axis" aria-hidden="true">
          <span>{format(max)}</span>
          <span>{format(max / 2)}</span>
          <span>{format(0)}</span>
        </div>
        <svg viewBox={`-4 -4 ${width + 8} ${height + 8}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`}>
          <line x1="0" y1={height} x2={width} y2={height} className="chart-base" />
          <line x1="0" y1={height / 2} x2={width} y2={height / 2} className="chart-grid" />
          <line x1="0" y1="0" x2={width} y2="0" className="chart-grid" />
          {lines.map((line) => (
            <g key={line.name} className={line.className}>
              <path d={linePath(line.values, width, height, max)} className="chart-line" />
              {/* A dot per bucket with data, so a lone point (one busy minute) still shows. */}
              {line.values.map((value, i) =>
                value === null ? null : <circle key={i} cx={line.values.length > 1 ? (i * width) / (line.values.length - 1) : width / 2} cy={height - (Math.min(value, max) / max) * height} r={3} className="chart-dot" />,
              )}
            </g>
          ))}
        </svg>
      </div>
      <div className="chart-footer">
        <span aria-hidden="true">{formatTime(first, language)}</span>
        <span className="chart-legend">
          {lines.map((line) => (
            <span key={line.name} className={`legend ${line.className}`}>
              {line.name}
            </span>
          ))}
        </span>
        <span aria-hidden="true">{formatTime(until ?? last, language)}</span>
      </div>
      <p id={`${id}-summary`} className="visually-hidden">
        {t('health.chart.summary', { points: points.length, bucket, attempts: total })}
      </p>
      <details className="chart-data">
        <summary>{t('health.chart.table')}</summary>
        <TableWrap label={t('health.chart.table')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('health.chart.start')}</th>
                <th scope="col">{t('health.attempts')}</th>
                {lines.map((line) => (
                  <th key={line.name} scope="col">
                    {line.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {points
                .map((point, i) => ({ point, i }))
                .filter(({ point }) => point.attempts > 0)
                .map(({ point, i }) => (
                  <tr key={point.start}>
                    <td>{formatTime(point.start, language)}</td>
                    <td>{point.attempts}</td>
                    {lines.map((line) => (
                      <td key={line.name}>{line.values[i] === null || line.values[i] === undefined ? '—' : format(line.values[i] as number)}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </figure>
  );
}

export function SuccessRateChart({ points, bucket, until }: { points: TimeseriesPoint[]; bucket: string; until?: string }) {
  const { t, language } = useI18n();
  return (
    <LineChart
      title={t('health.chart.success')}
      points={points}
      bucket={bucket}
      until={until}
      max={1}
      format={(v) => formatPercent(v, language)}
      lines={[{ name: t('health.successRate'), values: points.map((p) => p.success_rate), className: 'line-success' }]}
    />
  );
}

export function LatencyChart({ points, bucket, until }: { points: TimeseriesPoint[]; bucket: string; until?: string }) {
  const { t, language } = useI18n();
  const max = niceMax(Math.max(0, ...points.map((p) => p.latency_ms.p95 ?? 0)), 10);
  return (
    <LineChart
      title={t('health.chart.latency')}
      points={points}
      bucket={bucket}
      until={until}
      max={max}
      format={(v) => formatMs(v, language)}
      lines={[
        { name: t('health.p50'), values: points.map((p) => p.latency_ms.p50), className: 'line-p50' },
        { name: t('health.p95'), values: points.map((p) => p.latency_ms.p95), className: 'line-p95' },
      ]}
    />
  );
}
