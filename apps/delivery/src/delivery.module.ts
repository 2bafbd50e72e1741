import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PartnerAuthModule } from '@gancho/partner-auth';
import { ServiceCoreModule } from '@gancho/service-kit';
import { WebhookSender } from '@gancho/webhook-sender';
import { deliveryConfigSchema, type DeliveryConfig } from './delivery.config';
import { DeliveryLifecycle } from './delivery-lifecycle';
import { DeliveryOutbox } from './dispatch/delivery-outbox';
import { EventsController } from './events/events.http.controller';
import { Dispatcher } from './dispatch/dispatcher';
import { MessageStore } from './dispatch/message-store';
import { WEBHOOK_SENDER, type WebhookSenderPort } from './dispatch/sender';
import { StatusEventConsumer } from './ingest/status-event.consumer';
import { ErasureConsumer } from './personal-data/erasure.consumer';
import { SubjectKeysConsumer } from './personal-data/subject-keys.consumer';
import { OperationalEventConsumer } from './operational/operational-event.consumer';
import { DeliveryMetrics } from './metrics/delivery-metrics';
import { MessagesController } from './messages/messages.http.controller';
import { deliveryMigrations } from './migrations';
import { DeliveryRetention } from './retention/delivery-retention';
import { EndpointDirectory } from './routing/endpoint-directory';
import { StreamModule } from './stream/stream.module';

/** The system's CAs and those of ENDPOINT_CA_FILE (Node's `ca` replaces the system's, so both are given). */
function extraCertificateAuthorities(file: string | undefined): { ca?: string[] } {
  return file === undefined ? {} : { ca: [...rootCertificates, readFileSync(file, 'utf8')] };
}

@Module({})
export class DeliveryModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [
        ServiceCoreModule.forRoot({ service: 'delivery', defaultPort: 3003, migrations: deliveryMigrations, configSchema: deliveryConfigSchema }),
        PartnerAuthModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<DeliveryConfig, true>) => {
            const perSecond = config.get('PARTNER_API_RATE_LIMIT_PER_SECOND', { infer: true });
            return {
              topic: config.get('API_KEYS_TOPIC', { infer: true }),
              keyCatchUp: { maxWaitMs: config.get('API_KEY_CATCH_UP_MAX_WAIT_MS', { infer: true }) },
              // Per API key; the message log, resends and the stream share one bucket.
              rateLimit: perSecond > 0 ? { refillPerSecond: perSecond, capacity: config.get('PARTNER_API_RATE_LIMIT_BURST', { infer: true }) } : false,
            };
          },
        }),
        StreamModule,
      ],
      controllers: [MessagesController, EventsController],
      providers: [
        {
          provide: WEBHOOK_SENDER,
          inject: [ConfigService],
          useFactory: (config: ConfigService<DeliveryConfig, true>): WebhookSenderPort =>
            new WebhookSender({
              timeoutMs: config.get('REQUEST_TIMEOUT_MS', { infer: true }),
              maxResponseBytes: config.get('MAX_RESPONSE_BYTES', { infer: true }),
              allowHttp: config.get('ALLOW_HTTP_ENDPOINTS', { infer: true }),
              allowPrivateNetworks: config.get('ALLOW_PRIVATE_NETWORK_ENDPOINTS', { infer: true }),
              allowedHosts: config.get('ALLOWED_ENDPOINT_HOSTS', { infer: true }),
              // A pool per endpoint as large as its concurrency: it never waits for its own sockets, nor for another endpoint's.
              connectionsPerEndpoint: config.get('ENDPOINT_CONCURRENCY', { infer: true }),
              maxConnections: config.get('OUTBOUND_CONNECTIONS_MAX', { infer: true }),
              idlePoolTimeoutMs: config.get('ENDPOINT_POOL_IDLE_MS', { infer: true }),
              ...extraCertificateAuthorities(config.get('ENDPOINT_CA_FILE', { infer: true })),
            }),
        },
        {
          provide: MessageStore,
          inject: [getDataSourceToken(), ConfigService],
          useFactory: (dataSource: DataSource, config: ConfigService<DeliveryConfig, true>) => new MessageStore(dataSource, config.get('ENDPOINT_RECOVERED_AFTER_FAILURES', { infer: true })),
        },
        EndpointDirectory,
        DeliveryMetrics,
        StatusEventConsumer,
        SubjectKeysConsumer,
        ErasureConsumer,
        OperationalEventConsumer,
        Dispatcher,
        DeliveryOutbox,
        DeliveryRetention,
        DeliveryLifecycle,
      ],
    };
  }
}
