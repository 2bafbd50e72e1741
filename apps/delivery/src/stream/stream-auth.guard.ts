import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { PartnerAuthGuard } from '@gancho/partner-auth';

/**
 * The app's own PartnerAuthGuard (same key table, same rate limit), found at
 * run time: the stream module does not import the partner-auth module, which
 * would follow the api-keys topic a second time.
 */
@Injectable()
export class StreamAuthGuard implements CanActivate {
  private guard: PartnerAuthGuard | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    this.guard ??= this.moduleRef.get(PartnerAuthGuard, { strict: false });
    if (!this.guard) throw new Error('PartnerAuthGuard is not registered in this application');
    return this.guard.canActivate(context);
  }
}
