import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceCoreModule } from '@gancho/service-kit';
import { deliveryMigrations } from './migrations';

@Module({})
export class DeliveryModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [ServiceCoreModule.forRoot({ service: 'delivery', defaultPort: 3003, migrations: deliveryMigrations })],
    };
  }
}
