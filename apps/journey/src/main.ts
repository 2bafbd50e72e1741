import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { JourneyModule } from './journey.module';
import { journeyOpenApi } from './openapi';

void bootstrapService(JourneyModule.register(), 'journey', { openApi: journeyOpenApi });
