import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceCoreModule } from '@gancho/service-kit';
import { subscriptionsMigrations } from './migrations';

@Module({})
export class SubscriptionsModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(): DynamicModule {
    return {
      module: SubscriptionsModule,
      imports: [ServiceCoreModule.forRoot({ service: 'subscriptions', defaultPort: 3002, migrations: subscriptionsMigrations })],
    };
  }
}
