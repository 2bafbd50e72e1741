import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PartnerAuthGuard, type PartnerRequest } from '@gancho/partner-auth';
import { PartnerService } from './partner-service';
import { openApiSchema } from '@gancho/service-kit';
import { selfResponse } from '../partner-api-responses';

export interface PartnerSelfView {
  partner: { id: string; name: string };
  /** The credential of this request: a lasting API key, or a portal session that expires. */
  credential: { key_id: string; kind: 'api_key' | 'portal_session'; expires_at: string | null };
}

/** Who the caller is: the console's sign-in check and its header. Holds nothing secret. */
@ApiTags('partner')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('me')
export class PartnerSelfController {
  constructor(private readonly partners: PartnerService) {}

  @Get()
  @ApiOkResponse({ schema: openApiSchema(selfResponse) })
  @ApiOperation({ summary: 'The partner of this API key or portal session, and when the credential expires', operationId: 'getSelf' })
  async me(@Req() request: PartnerRequest): Promise<PartnerSelfView> {
    const partner = await this.partners.get(request.partnerId);
    const expiresAt = request.apiKeyExpiresAt ?? null;
    return {
      partner: { id: partner.id, name: partner.name },
      credential: { key_id: request.apiKeyId, kind: expiresAt === null ? 'api_key' : 'portal_session', expires_at: expiresAt },
    };
  }
}
