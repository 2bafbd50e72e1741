import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EVENT_TRANSPORT, KafkaTransport, PostgresTransport, type EventTransport } from '@gancho/messaging';
import { SERVICE_NAME } from '../service-name';
import type { ServiceConfig } from '../config/service-config';

@Injectable()
class TransportShutdown implements OnApplicationShutdown {
  constructor(@Inject(EVENT_TRANSPORT) private readonly transport: EventTransport) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}

/** Provides the event transport under EVENT_TRANSPORT: Kafka when KAFKA_BROKERS is set, else the PostgreSQL log. */
@Module({
  providers: [
    {
      provide: EVENT_TRANSPORT,
      inject: [ConfigService, SERVICE_NAME],
      useFactory: (config: ConfigService<ServiceConfig, true>, service: string): EventTransport => {
        const logger = new Logger('EventTransport');
        const log = (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => logger[level](`${message} ${JSON.stringify(extra)}`);
        const brokers = config.get('KAFKA_BROKERS', { infer: true });
        if (brokers) {
          return new KafkaTransport({ brokers: brokers.split(','), clientId: `gancho-${service}`, log, sessionTimeoutMs: config.get('KAFKA_SESSION_TIMEOUT_MS', { infer: true }) });
        }
        return new PostgresTransport({
          connectionString: config.get('DATABASE_URL', { infer: true }),
          schema: config.get('TRANSPORT_SCHEMA', { infer: true }),
          clientId: `gancho-${service}`,
          log,
        });
      },
    },
    TransportShutdown,
  ],
  exports: [EVENT_TRANSPORT],
})
export class TransportModule {}
