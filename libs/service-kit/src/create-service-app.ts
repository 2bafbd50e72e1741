import type { DynamicModule, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { requireJsonBodies } from './http/json-only.middleware';
import { setupOpenApi, type OpenApiInfo } from './http/openapi';
import { toProblem } from './http/problem-details.filter';

export interface ServiceAppOptions {
  openApi?: OpenApiInfo;
  /** Largest JSON body accepted; bigger ones get 413 PAYLOAD_TOO_LARGE. */
  bodyLimit?: string;
  logger?: LogLevel[] | false;
}

/**
 * Creates a service's HTTP app the same way in `main` and in tests: JSON
 * bodies only, bounded in size, errors as problem+json, OpenAPI at /docs.
 */
export async function createServiceApp(rootModule: DynamicModule, options: ServiceAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    bodyParser: false,
    abortOnError: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  app.disable('x-powered-by');
  app.use(requireJsonBodies);
  app.useBodyParser('json', { limit: options.bodyLimit ?? '256kb', type: ['application/json', 'application/*+json'] });
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
