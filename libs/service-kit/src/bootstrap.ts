import { Logger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { startTelemetry } from '@gancho/telemetry';
import type { ServiceConfig } from './config/service-config';
import { createServiceApp, type ServiceAppOptions } from './create-service-app';

const shutdownGraceMs = 25_000;

/**
 * Creates the service's app and listens on PORT/HOST. SIGTERM and SIGINT
 * close it (consumers commit, pools drain) and exit 0, so an orchestrator
 * can tell a clean stop from a crash; a stop that hangs is cut short.
 */
export async function bootstrapService(rootModule: DynamicModule, service: string, options: ServiceAppOptions = {}): Promise<INestApplication> {
  const logger = new Logger('Bootstrap');
  // Before the app: spans opened while it starts have a tracer to go to. A no-op unless OTEL_* ask for traces.
  const telemetry = startTelemetry({ serviceName: `gancho-${service}` });
  const app = await createServiceApp(rootModule, options);
  const config = app.get<ConfigService<ServiceConfig, true>>(ConfigService);
  await app.listen(config.get('PORT', { infer: true }), config.get('HOST', { infer: true }));
  logger.log(`${service} listening on ${await app.getUrl()}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${shutdownGraceMs} ms; exiting`);
      process.exit(1);
    }, shutdownGraceMs).unref();
    app
      .close()
      .then(() => telemetry.shutdown().catch(() => undefined))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return app;
}
