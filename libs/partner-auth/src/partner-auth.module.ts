import { Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { ApiKeyDirectory } from './api-key-directory';
import { PartnerAuthGuard } from './partner-auth.guard';
import { PARTNER_AUTH_OPTIONS, PARTNER_RATE_LIMITER, type PartnerAuthOptions } from './partner-auth.options';
import { TokenBucketLimiter } from './token-bucket-limiter';

export interface PartnerAuthAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => PartnerAuthOptions | Promise<PartnerAuthOptions>;
}

/**
 * Partner API-key authentication for any service: import it beside
 * service-kit's core module (whose event transport it reads the key topic
 * through) and put `@UseGuards(PartnerAuthGuard)` on partner routes.
 */
@Module({})
export class PartnerAuthModule {
  static forRoot(options: PartnerAuthOptions = {}): DynamicModule {
    return PartnerAuthModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: PartnerAuthAsyncOptions): DynamicModule {
    return {
      module: PartnerAuthModule,
      imports: options.imports ?? [],
      providers: [
        { provide: PARTNER_AUTH_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: PARTNER_RATE_LIMITER,
          inject: [PARTNER_AUTH_OPTIONS],
          useFactory: (resolved: PartnerAuthOptions) => (resolved.rateLimit ? new TokenBucketLimiter(resolved.rateLimit) : null),
        },
        ApiKeyDirectory,
        PartnerAuthGuard,
      ],
      exports: [ApiKeyDirectory, PartnerAuthGuard, PARTNER_AUTH_OPTIONS, PARTNER_RATE_LIMITER],
    };
  }
}
