import type { INestApplication, INestMicroservice, NestHybridApplicationOptions } from '@nestjs/common';
import type { CustomStrategy } from '@nestjs/microservices';
import type { EventTransport } from '../event-transport';
import { EventTransportServer, type EventTransportServerOptions } from './event-transport.server';

/**
 * Makes an HTTP app also consume events: its `@EventPattern(topic)` handlers
 * receive the topics' messages once `app.startAllMicroservices()` has run.
 */
export function connectEventTransportConsumer(app: INestApplication, transport: EventTransport, options: EventTransportServerOptions, hybridOptions?: NestHybridApplicationOptions): INestMicroservice {
  return app.connectMicroservice<CustomStrategy>({ strategy: new EventTransportServer(transport, options) }, hybridOptions);
}
