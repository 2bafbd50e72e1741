import type { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SecretBox } from '@gancho/secret-box';
import type { SubscriptionsConfig } from '../subscriptions.config';

/** The secret box that seals signing secrets, keyed from SECRETS_ENCRYPTION_KEY. */
export const secretBoxProvider: Provider = {
  provide: SecretBox,
  inject: [ConfigService],
  useFactory: (config: ConfigService<SubscriptionsConfig, true>) => SecretBox.fromConfig(config.get('SECRETS_ENCRYPTION_KEY', { infer: true })),
};
