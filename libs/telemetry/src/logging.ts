import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { activeTraceIds } from './tracing';

export type { DestinationStream, Logger } from 'pino';
export type LogLevel = LevelWithSilent;
export const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Field paths whose values never reach a log line, whatever the level:
 * credentials, secrets and webhook bodies (they hold students' personal data).
 */
export const redactedPaths: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  '*.headers["x-api-key"]',
  'headers.cookie',
  '*.headers.cookie',
  '*.headers["webhook-signature"]',
  'key',
  '*.key',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'signing_secrets',
  '*.signing_secrets',
  'signingSecrets',
  '*.signingSecrets',
  'password',
  '*.password',
  'payload',
  '*.payload',
  'body',
  '*.body',
  'data.student',
  '*.data.student',
];

/** Shapes of secrets that may hide inside free text (an error message, a URL). */
const secretPatterns: readonly [RegExp, string][] = [
  [/gk_(live|test)_[A-Za-z0-9_-]+/g, 'gk_$1_[REDACTED]'],
  [/whsec_[A-Za-z0-9+/=_-]+/g, 'whsec_[REDACTED]'],
  [/(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  // user:password@ in connection strings
  [/(\/\/[^:/@\s"]+:)[^@\s"]+@/g, '$1[REDACTED]@'],
  [/(SECRETS_ENCRYPTION_KEY[A-Z_]*["']?\s*[:=]\s*["']?)[^\s"',]+/g, '$1[REDACTED]'],
];

/**
 * Values of the environment that are secrets by name (keys, tokens,
 * passwords, the encryption keys): the logger removes them from every line,
 * so a library that echoes its configuration cannot leak them.
 */
export function secretValuesFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value || !/(SECRET|TOKEN|PASSWORD|ENCRYPTION_KEY|API_KEY|PRIVATE_KEY)/i.test(name)) continue;
    // Names of things about secrets, not secrets: API_KEYS_TOPIC, SECRET_ROTATION_OVERLAP_MS…
    if (/_(TOPICS?|GROUP|MS|SECONDS|ENABLED|SIZE|LIMIT|COUNT)$/i.test(name)) continue;
    for (const part of value.split(',')) {
      const trimmed = part.trim();
      if (trimmed.length >= 8) values.push(trimmed);
      // "<keyId>:<key>": the key alone is secret too.
      const key = trimmed.split(':').at(-1);
      if (key && key !== trimmed && key.length >= 16) values.push(key);
    }
  }
  return values;
}

/** Removes known secret values and secret-shaped text from a serialized line. */
export function scrubSecrets(line: string, knownSecrets: readonly string[] = []): string {
  let scrubbed = line;
  for (const secret of knownSecrets) {
    if (scrubbed.includes(secret)) scrubbed = scrubbed.split(secret).join('[REDACTED]');
    // JSON escapes "/" nowhere but does escape quotes and backslashes; base64 has neither.
  }
  for (const [pattern, replacement] of secretPatterns) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

export interface LoggerOptions {
  service: string;
  level: LogLevel;
  /** Where lines go; stdout by default. Tests capture them. */
  destination?: DestinationStream;
  /** Secret values to remove wherever they appear (see `secretValuesFromEnv`). */
  knownSecrets?: readonly string[];
}

/**
 * One JSON object per line (pino), with `service`, and `trace_id`/`span_id`
 * while a span is active. Secrets are kept out twice: redacted fields, and a
 * last pass over the serialized line.
 */
export function createLogger(options: LoggerOptions): Logger {
  const knownSecrets = [...(options.knownSecrets ?? [])].sort((a, b) => b.length - a.length);
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...redactedPaths], censor: '[REDACTED]' },
      mixin: () => activeTraceIds() ?? {},
      hooks: { streamWrite: (line) => scrubSecrets(line, knownSecrets) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
