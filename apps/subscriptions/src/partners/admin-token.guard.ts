import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { BearerTokenGuard } from '@gancho/service-kit';
import type { SubscriptionsConfig } from '../subscriptions.config';

/** Only Gancho's operators manage partners and their keys. */
@Injectable()
export class AdminTokenGuard extends BearerTokenGuard {
  constructor(config: ConfigService<SubscriptionsConfig, true>) {
    super(() => config.get('SUBSCRIPTIONS_ADMIN_TOKENS', { infer: true }), 'subscriptions admin');
  }
}
