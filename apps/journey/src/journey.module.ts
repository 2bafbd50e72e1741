import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceCoreModule } from '@gancho/service-kit';
import { journeyMigrations } from './migrations';

@Module({})
export class JourneyModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(): DynamicModule {
    return {
      module: JourneyModule,
      imports: [ServiceCoreModule.forRoot({ service: 'journey', defaultPort: 3001, migrations: journeyMigrations })],
    };
  }
}
