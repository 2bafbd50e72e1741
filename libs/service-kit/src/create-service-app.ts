import type { DynamicModule, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { createLogger, logLevels, secretValuesFromEnv, type DestinationStream, type LogLevel as PinoLevel } from '@gancho/telemetry';
import { answerClientErrorsWithProblems } from './http/client-errors';
import { jsonBodyParserOptions, requireJsonBodies } from './http/json-only.middleware';
import { setupOpenApi, type OpenApiInfo } from './http/openapi';
import { toProblem } from './http/problem-details.filter';
import { refuseUnstorableText } from './http/request-text';
import { httpTelemetry } from './observability/http-telemetry';
import { PinoNestLogger, pinoLevelFor } from './observability/nest-logger';
import { ServiceMetrics } from './observability/service-metrics';
import { SERVICE_NAME } from './service-name';

export interface ServiceAppOptions {
  openApi?: OpenApiInfo;
  /** Largest JSON body accepted; bigger ones get 413 PAYLOAD_TOO_LARGE. */
  bodyLimit?: string;
  /** Nest's levels to show (tests), or false for none; when absent, LOG_LEVEL decides (default info). */
  logger?: LogLevel[] | false;
  /** Where JSON log lines go; stdout by default. Tests capture them. */
  logDestination?: DestinationStream;
}

/** LOG_LEVEL, checked here because logging starts before the configuration is validated. */
export function logLevelFromEnv(value: string | undefined): PinoLevel {
  const level = (value ?? 'info').trim().toLowerCase();
  if (!(logLevels as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL must be one of ${logLevels.join(', ')}`);
  return level as PinoLevel;
}

/**
 * Creates a service's HTTP app the same way in `main` and in tests: JSON
 * bodies only (UTF-8, bounded in size), text that can be stored (see
 * request-text.ts), errors as problem+json (also those of Node's HTTP
 * parser), OpenAPI at /docs,
 * JSON logs (pino) with trace ids, an HTTP server span and duration metric
 * per request, and /metrics.
 */
export async function createServiceApp(rootModule: DynamicModule, options: ServiceAppOptions = {}): Promise<NestExpressApplication> {
  const level = options.logger === undefined ? logLevelFromEnv(process.env['LOG_LEVEL']) : pinoLevelFor(options.logger);
  const pino = createLogger({ service: serviceNameOf(rootModule) ?? 'gancho', level, knownSecrets: secretValuesFromEnv(process.env), ...(options.logDestination ? { destination: options.logDestination } : {}) });
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    bodyParser: false,
    abortOnError: false,
    logger: new PinoNestLogger(pino, options.logger === undefined || options.logger === false ? undefined : options.logger),
  });
  const telemetry = httpTelemetry(optional<ServiceMetrics>(app, ServiceMetrics)?.httpServerDuration, pino);
  app.disable('x-powered-by');
  answerClientErrorsWithProblems(app.getHttpServer());
  app.use(telemetry.begin);
  app.use(requireJsonBodies);
  // Nest's type leaves out `verify` (it sets its own for `rawBody: true`, which no service uses); it passes ours on.
  app.useBodyParser('json', jsonBodyParserOptions(options.bodyLimit ?? '256kb'));
  app.use(telemetry.resume);
  app.use(refuseUnstorableText);
  // Errors raised by the middleware above happen before Nest's routing, so
  // Nest's exception filters never see them; this handler renders them alike.
  app.use((error: unknown, request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    const problem = { ...toProblem(error), instance: request.originalUrl };
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  });
  if (options.openApi) setupOpenApi(app, options.openApi);
  return app;
}

/** The name ServiceCoreModule.forRoot was given, found in the module tree, so that even start-up lines carry it. */
function serviceNameOf(module: unknown, seen = new Set<unknown>()): string | undefined {
  if (!module || (typeof module !== 'object' && typeof module !== 'function') || seen.has(module)) return undefined;
  seen.add(module);
  // A dynamic module lists its parts; a @Module class keeps them as metadata.
  const dynamic: Partial<DynamicModule> =
    typeof module === 'function'
      ? { imports: Reflect.getMetadata('imports', module) as DynamicModule['imports'], providers: Reflect.getMetadata('providers', module) as DynamicModule['providers'] }
      : (module as Partial<DynamicModule>);
  for (const provider of dynamic.providers ?? []) {
    const value = provider as { provide?: unknown; useValue?: unknown };
    if (value.provide === SERVICE_NAME && typeof value.useValue === 'string') return value.useValue;
  }
  for (const imported of dynamic.imports ?? []) {
    const found = serviceNameOf(imported, seen);
    if (found) return found;
  }
  return undefined;
}

/** A provider of the root module, or undefined for apps built without ServiceCoreModule. */
function optional<T>(app: NestExpressApplication, token: unknown): T | undefined {
  try {
    return app.get<T>(token as string, { strict: false });
  } catch {
    return undefined;
  }
}
