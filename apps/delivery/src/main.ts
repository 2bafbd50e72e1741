import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { DeliveryModule } from './delivery.module';

void bootstrapService(DeliveryModule.register(), 'delivery');
