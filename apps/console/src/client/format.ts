// Pure helpers of the page (no DOM): formatting and chart geometry, unit-tested.
import type { Language } from './i18n';

export function formatTime(iso: string | null | undefined, language: Language): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' }).format(date);
}

export function formatPercent(rate: number | null | undefined, language: Language): string {
  if (rate === null || rate === undefined) return '—';
  return new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

export function formatMs(ms: number | null | undefined, language: Language): string {
  if (ms === null || ms === undefined) return '—';
  return `${new Intl.NumberFormat(language, { maximumFractionDigits: 0 }).format(ms)} ms`;
}

/** `<input type="datetime-local">` value (local time) → RFC 3339 (UTC), or undefined when empty or invalid. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** RFC 3339 → `<input type="datetime-local">` value in local time (minutes). */
export function isoToLocalInput(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A round upper bound for a chart's y axis (1, 2 or 5 × 10ⁿ), at least `min`. */
export function niceMax(value: number, min = 1): number {
  const target = Math.max(value, min);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) if (step * power >= target) return step * power;
  return 10 * power;
}

export interface Series {
  name: string;
  values: (number | null)[];
}

/**
 * SVG path data of a series in a width × height box, y from 0 to `max`.
 * A null value breaks the line (no data in that bucket), rather than drawing
 * a misleading zero.
 */
export function linePath(values: (number | null)[], width: number, height: number, max: number): string {
  if (values.length === 0 || max <= 0) return '';
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = values.length > 1 ? i * step : width / 2;
    const y = height - (Math.min(value, max) / max) * height;
    path += `${drawing ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
    drawing = true;
  });
  return path.trim();
}

/** Masks a secret for display: its prefix and last four characters. */
export function maskSecret(secret: string): string {
  if (secret.length <= 12) return '••••';
  const underscore = secret.indexOf('_');
  const prefix = underscore > 0 && underscore < 10 ? secret.slice(0, underscore + 1) : '';
  return `${prefix}••••••••${secret.slice(-4)}`;
}
