import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { JourneyModule } from './journey.module';

void bootstrapService(JourneyModule.register(), 'journey');
