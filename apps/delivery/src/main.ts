import 'reflect-metadata';
import { bootstrapService } from '@gancho/service-kit';
import { DeliveryModule } from './delivery.module';
import { deliveryOpenApi } from './openapi';

void bootstrapService(DeliveryModule.register(), 'delivery', { openApi: deliveryOpenApi });
