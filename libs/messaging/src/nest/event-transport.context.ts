import { BaseRpcContext } from '@nestjs/microservices';
import type { IncomingMessage, TransportHeaders } from '../event-transport';

export type EventTransportContextArgs = [message: IncomingMessage];

/**
 * What an `@EventPattern` handler gets as `@Ctx()` from the event transport
 * server: where the message sits in its topic, its key and its headers
 * (CloudEvents attributes `ce_*`, `traceparent`). `getArgs()` is
 * `[message]`, the message as the transport delivered it (raw value included).
 */
export class EventTransportContext extends BaseRpcContext<EventTransportContextArgs> {
  constructor(message: IncomingMessage) {
    super([message]);
  }

  getMessage(): IncomingMessage {
    return this.args[0];
  }

  get topic(): string {
    return this.args[0].topic;
  }

  get partition(): number {
    return this.args[0].partition;
  }

  get offset(): string {
    return this.args[0].offset;
  }

  get key(): string | null {
    return this.args[0].key;
  }

  get headers(): TransportHeaders {
    return this.args[0].headers;
  }

  /** Milliseconds since the epoch, as the transport recorded it. */
  get timestamp(): number {
    return this.args[0].timestamp;
  }
}
