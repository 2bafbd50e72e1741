import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import type { Logger, LogLevel } from '@gancho/telemetry';

const pinoLevelOf: Record<NestLogLevel, Exclude<LogLevel, 'silent'>> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** The most verbose pino level that shows every one of Nest's levels given. */
export function pinoLevelFor(levels: readonly NestLogLevel[] | false): LogLevel {
  if (levels === false || levels.length === 0) return 'silent';
  const order: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  return order.find((level) => levels.some((nestLevel) => pinoLevelOf[nestLevel] === level)) ?? 'silent';
}

/**
 * Nest's `Logger` (every `new Logger('Context')` in the services) written as
 * pino JSON lines: the context becomes a field, an error's stack a field, and
 * an object message is merged into the line. `levels`, when given, shows
 * exactly those of Nest's levels (the tests' `logger: ['error']`).
 */
export class PinoNestLogger implements LoggerService {
  private levels: ReadonlySet<NestLogLevel> | undefined;

  constructor(
    readonly pino: Logger,
    levels?: readonly NestLogLevel[],
  ) {
    this.levels = levels ? new Set(levels) : undefined;
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  setLogLevels(levels: NestLogLevel[]): void {
    this.levels = new Set(levels);
  }

  private write(level: NestLogLevel, message: unknown, params: unknown[]): void {
    if (this.levels && !this.levels.has(level)) return;
    const pinoLevel = pinoLevelOf[level];
    if (!this.pino.isLevelEnabled(pinoLevel)) return;
    const fields: Record<string, unknown> = {};
    const rest = [...params];
    // Nest calls error(message, stack, context), error(message, context) and log(message, context).
    if ((level === 'error' || level === 'fatal') && rest.length >= 2) {
      const [stack, context] = rest;
      if (typeof stack === 'string' && stack) fields['stack'] = stack;
      if (typeof context === 'string') fields['context'] = context;
    } else if (typeof rest.at(-1) === 'string') {
      const last = rest.pop() as string;
      if ((level === 'error' || level === 'fatal') && /\n\s+at /.test(last)) fields['stack'] = last;
      else fields['context'] = last;
    }
    if (message instanceof Error) {
      fields['err'] = message;
      this.pino[pinoLevel](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[pinoLevel]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[pinoLevel](fields, String(message));
    }
  }
}
