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

/**
 * How a person types a date and time in each language, 24-hour, local time:
 * dd/mm/aaaa hh:mm in Portuguese, ISO 8601's yyyy-mm-dd hh:mm in English.
 * The browser's own datetime-local input follows the browser's locale, not
 * the page's (mm/dd/yyyy 12-hour next to Portuguese), so the console has its own.
 */
export const dateTimeInputFormat: Record<Language, string> = { 'pt-BR': 'dd/mm/aaaa hh:mm', en: 'yyyy-mm-dd hh:mm' };

const dateTimeInputPatterns: Record<Language, RegExp> = {
  'pt-BR': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})(?:[ ,]+(?<h>\d{1,2}):(?<min>\d{2}))?$/,
  en: /^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})(?:[ T]+(?<h>\d{1,2}):(?<min>\d{2}))?$/,
};

/** A typed date and time (local) → RFC 3339 (UTC); undefined when empty, null when it is no real date in that format. */
export function parseDateTimeInput(text: string, language: Language): string | undefined | null {
  const value = text.trim();
  if (value === '') return undefined;
  const groups = dateTimeInputPatterns[language].exec(value)?.groups;
  if (!groups) return null;
  const [year, month, day, hour, minute] = [groups['y'], groups['m'], groups['d'], groups['h'] ?? '0', groups['min'] ?? '0'].map(Number) as [number, number, number, number, number];
  const date = new Date(year, month - 1, day, hour, minute);
  // 31/02 rolls over into March, 24:00 into the next day: refused.
  const real = date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day && date.getHours() === hour && date.getMinutes() === minute;
  return real ? date.toISOString() : null;
}

/** RFC 3339 → the typed form of `parseDateTimeInput` (local time, minutes). */
export function formatDateTimeInput(iso: string, language: Language): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return language === 'pt-BR' ? `${pad(date.getDate())}/${pad(date.getMonth() + 1)}/${date.getFullYear()} ${time}` : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
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
