import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Topics } from '@gancho/contracts';
import { connectEventTransportConsumer, EVENT_TRANSPORT, type EventTransport } from '@gancho/messaging';
import { PartnerAuthModule } from '@gancho/partner-auth';
import { contractTopicSpec, ServiceCoreModule } from '@gancho/service-kit';
import type { ResolveHost } from '@gancho/url-safety';
import { EventTypesController } from './catalog/event-types.http.controller';
import { OperationalEventTypesController } from './catalog/operational-event-types.http.controller';
import { EndpointHealthController } from './endpoints/endpoint-health.message.controller';
import { EndpointService } from './endpoints/endpoint-service';
import { EndpointUrlPolicy } from './endpoints/endpoint-url-policy';
import { EndpointsController } from './endpoints/endpoints.http.controller';
import { subscriptionsMigrations } from './migrations';
import { AdminTokenGuard } from './partners/admin-token.guard';
import { PartnerService } from './partners/partner-service';
import { PartnerSelfController } from './partners/partner-self.http.controller';
import { PartnersAdminController } from './partners/partners.admin.controller';
import { PortalSessionService } from './portal/portal-session-service';
import { PortalSessionsAdminController } from './portal/portal-sessions.admin.controller';
import { CLOCK, systemClock, type Clock } from './platform/clock';
import { RESOLVE_HOST, systemResolveHost } from './platform/dns';
import { secretBoxProvider } from './platform/secret-box.provider';
import { ApiKeyPublication } from './relay/api-key-publication';
import { SubscriptionsOutbox } from './relay/subscriptions-outbox';
import { subscriptionsConfigSchema, type SubscriptionsConfig } from './subscriptions.config';

export interface SubscriptionsModuleOptions {
  /** Tests drive time; production uses the system clock. */
  clock?: Clock;
  /** Tests answer DNS themselves; production asks the system resolver. */
  resolveHost?: ResolveHost;
}

@Module({})
export class SubscriptionsModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(options: SubscriptionsModuleOptions = {}): DynamicModule {
    return {
      module: SubscriptionsModule,
      imports: [
        ServiceCoreModule.forRoot({ service: 'subscriptions', defaultPort: 3002, migrations: subscriptionsMigrations, configSchema: subscriptionsConfigSchema }),
        PartnerAuthModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<SubscriptionsConfig, true>) => {
            const perSecond = config.get('PARTNER_API_RATE_LIMIT_PER_SECOND', { infer: true });
            return {
              topic: config.get('API_KEYS_TOPIC', { infer: true }),
              keyCatchUp: { maxWaitMs: config.get('API_KEY_CATCH_UP_MAX_WAIT_MS', { infer: true }) },
              rateLimit: perSecond > 0 ? { refillPerSecond: perSecond, capacity: config.get('PARTNER_API_RATE_LIMIT_BURST', { infer: true }) } : false,
            };
          },
        }),
      ],
      controllers: [PartnersAdminController, PortalSessionsAdminController, PartnerSelfController, EndpointsController, EventTypesController, OperationalEventTypesController, EndpointHealthController],
      providers: [
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: RESOLVE_HOST, useValue: options.resolveHost ?? systemResolveHost },
        secretBoxProvider,
        AdminTokenGuard,
        PartnerService,
        PortalSessionService,
        EndpointService,
        EndpointUrlPolicy,
        SubscriptionsOutbox,
        ApiKeyPublication,
      ],
    };
  }
}

/**
 * Makes the app consume delivery's endpoint-health reports with its
 * `@EventPattern` handler (a hybrid app over the event transport port).
 * Call once the app is created; `app.close()` stops the consumer.
 */
export async function startSubscriptionsConsumers(app: INestApplication): Promise<void> {
  const transport = app.get<EventTransport>(EVENT_TRANSPORT);
  const config = app.get<ConfigService<SubscriptionsConfig, true>>(ConfigService);
  await transport.ensureTopics([contractTopicSpec(Topics.endpointHealth)]);
  connectEventTransportConsumer(app, transport, {
    groupId: config.get('ENDPOINT_HEALTH_CONSUMER_GROUP', { infer: true }),
    topics: [Topics.endpointHealth],
    fromBeginning: true,
  });
  await app.startAllMicroservices();
}
