import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { subscriptionsOpenApi } from './openapi';
import { startSubscriptionsConsumers, SubscriptionsModule } from './subscriptions.module';

void bootstrapService(SubscriptionsModule.register(), 'subscriptions', { openApi: subscriptionsOpenApi }).then(startSubscriptionsConsumers);
