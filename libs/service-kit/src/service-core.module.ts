import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import type { z } from 'zod';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresEventStore } from '@gancho/event-store';
import { openMigratedDataSource, serviceDataSourceOptions, type ServiceDatabaseOptions } from '@gancho/persistence';
import { parseServiceConfig, type ServiceConfig } from './config/service-config';
import { AsyncApiController } from './contracts/asyncapi.controller';
import { HealthModule } from './health/health.module';
import { IdempotencyService } from './http/idempotency';
import { serviceMigrations } from './migrate-command';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { MetricsController } from './observability/metrics.controller';
import { ServiceMetrics } from './observability/service-metrics';
import { SERVICE_NAME } from './service-name';
import { TransportModule } from './transport/transport.module';

export interface ServiceCoreOptions {
  /** "journey", "subscriptions", "delivery": names the schema, the Kafka client and the logs. */
  service: string;
  defaultPort: number;
  migrations: ServiceDatabaseOptions['migrations'];
  entities?: ServiceDatabaseOptions['entities'];
  /** The service's own configuration keys, validated with the common ones at start. */
  configSchema?: z.ZodObject;
}

@Global()
@Module({})
class ServiceNameModule {
  static forRoot(service: string): DynamicModule {
    return { module: ServiceNameModule, providers: [{ provide: SERVICE_NAME, useValue: service }], exports: [SERVICE_NAME] };
  }
}

/**
 * What every Gancho service has: validated configuration, its own PostgreSQL
 * schema (migrated at start), the event transport, the health routes,
 * /metrics and /asyncapi.json (its topics).
 */
@Module({})
export class ServiceCoreModule {
  static forRoot(options: ServiceCoreOptions): DynamicModule {
    return {
      module: ServiceCoreModule,
      imports: [
        ServiceNameModule.forRoot(options.service),
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validate: (env) => parseServiceConfig(env, { PORT: options.defaultPort }, options.configSchema),
        }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<ServiceConfig, true>) =>
            serviceDataSourceOptions({
              url: config.get('DATABASE_URL', { infer: true }),
              schema: options.service,
              // Every service gets the idempotency-key table beside its own tables.
              migrations: serviceMigrations(options.migrations),
              entities: options.entities ?? [],
              applicationName: `gancho-${options.service}`,
              poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }),
            }),
          dataSourceFactory: async (dataSourceOptions) => {
            if (!dataSourceOptions) throw new Error('no data source options');
            return openMigratedDataSource(dataSourceOptions);
          },
        }),
        TransportModule,
        HealthModule,
      ],
      controllers: [MetricsController, AsyncApiController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        IdempotencyService,
        ServiceMetrics,
        // The one event store of the service, on its own schema: handlers and relays inject it.
        { provide: PostgresEventStore, useFactory: (dataSource: DataSource) => new PostgresEventStore(dataSource), inject: [getDataSourceToken()] },
      ],
      exports: [TransportModule, IdempotencyService, ServiceMetrics, PostgresEventStore],
    };
  }
}
