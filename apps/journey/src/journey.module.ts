import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceCoreModule } from '@gancho/service-kit';
import { journeyConfigSchema } from './journey.config';
import { journeyMigrations } from './migrations';
import { ErasureController } from './personal-data/erasure.http.controller';
import { ErasureService } from './personal-data/erasure.service';
import { PersonalDataRetention } from './personal-data/personal-data-retention';
import { IdempotencyRetention } from './platform/idempotency-retention';
import { PersonalDataSealing } from './personal-data/personal-data-sealing';
import { SubjectKeyring } from './personal-data/subject-keyring';
import { CLOCK, systemClock, type Clock } from './platform/clock';
import { PlatformTokenGuard } from './purchases/platform-token.guard';
import { PurchaseCommandHandler } from './purchases/purchase-command.handler';
import { PurchasesController } from './purchases/purchases.http.controller';
import { JourneyOutbox } from './relay/journey-outbox';
import { InactivityScheduler } from './timeouts/inactivity-scheduler';

export interface JourneyModuleOptions {
  /** Tests drive time; production uses the system clock. */
  clock?: Clock;
}

@Module({})
export class JourneyModule {
  /** Built at start, after the environment is known: configuration is read then. */
  static register(options: JourneyModuleOptions = {}): DynamicModule {
    return {
      module: JourneyModule,
      imports: [ServiceCoreModule.forRoot({ service: 'journey', defaultPort: 3001, migrations: journeyMigrations, configSchema: journeyConfigSchema })],
      controllers: [PurchasesController, ErasureController],
      providers: [
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        PlatformTokenGuard,
        SubjectKeyring,
        PersonalDataSealing,
        ErasureService,
        PurchaseCommandHandler,
        InactivityScheduler,
        PersonalDataRetention,
        IdempotencyRetention,
        JourneyOutbox,
      ],
    };
  }
}
