import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EVENT_TRANSPORT, KafkaTransport, type EventTransport } from '@gancho/messaging';
import { SERVICE_NAME } from '../service-name';
import type { ServiceConfig } from '../config/service-config';

@Injectable()
class TransportShutdown implements OnApplicationShutdown {
  constructor(@Inject(EVENT_TRANSPORT) private readonly transport: EventTransport) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}

/** Provides the event transport under EVENT_TRANSPORT, built from configuration. */
@Module({
  providers: [
    {
      provide: EVENT_TRANSPORT,
      inject: [ConfigService, SERVICE_NAME],
      useFactory: (config: ConfigService<ServiceConfig, true>, service: string): EventTransport => {
        const logger = new Logger('EventTransport');
        return new KafkaTransport({
          brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
          clientId: `gancho-${service}`,
          log: (level, message, extra) => logger[level](`${message} ${JSON.stringify(extra)}`),
        });
      },
    },
    TransportShutdown,
  ],
  exports: [EVENT_TRANSPORT],
})
export class TransportModule {}
