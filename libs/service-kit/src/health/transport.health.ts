import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { EVENT_TRANSPORT, type EventTransport } from '@gancho/messaging';

@Injectable()
export class TransportHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      await this.transport.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
