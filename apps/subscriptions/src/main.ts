import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { SubscriptionsModule } from './subscriptions.module';

void bootstrapService(SubscriptionsModule.register(), 'subscriptions');
