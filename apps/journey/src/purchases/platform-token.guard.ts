import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { BearerTokenGuard } from '@gancho/service-kit';
import type { JourneyConfig } from '../journey.config';

/** Only the checkout platform drives purchase journeys. */
@Injectable()
export class PlatformTokenGuard extends BearerTokenGuard {
  constructor(config: ConfigService<JourneyConfig, true>) {
    super(() => config.get('JOURNEY_PLATFORM_TOKENS', { infer: true }), 'journey platform');
  }
}
