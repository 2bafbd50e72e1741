import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems, ApiQueryFrom, IdempotencyService, openApiSchema, parseOrThrow, ZodBody } from '@gancho/service-kit';
import { idPattern } from '../platform/ids';
import { requestCaller } from '../platform/request-context';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiKeyNotFoundError, PartnerNotFoundError } from '@gancho/subscriptions-domain';
import { createPartnerBody, pageQuery, type CreatePartnerBody } from './partner-requests';
import { ApiKeyPublication } from '../relay/api-key-publication';
import { partnerStreamId, PartnerService, type ApiKeyView, type PartnerView } from './partner-service';

const admin = { type: 'admin' } as const;
const idempotencyKeyHeader = { name: 'Idempotency-Key', required: false, description: 'Same key and body: the first response is replayed.' };

function checkPartnerId(partnerId: string): void {
  if (!idPattern('ptn').test(partnerId)) throw new PartnerNotFoundError(partnerId);
}

/**
 * Gancho's operators: partners (schools) and their API keys. A key is shown
 * once, when it is issued; only its hash and display prefix are kept, and
 * every key record is published to `subscriptions.api-keys.v1` for the
 * services that authenticate partners.
 */
@ApiTags('admin')
@ApiBearerAuth('admin')
@UseGuards(AdminTokenGuard)
@Controller('admin/partners')
export class PartnersAdminController {
  constructor(
    private readonly partners: PartnerService,
    private readonly idempotency: IdempotencyService,
    private readonly publication: ApiKeyPublication,
  ) {}

  @Post()
  @ApiProblems('PARTNER_ALREADY_EXISTS')
  @ApiOperation({ summary: 'Create a partner', operationId: 'createPartner' })
  @ApiHeader(idempotencyKeyHeader)
  @ApiBody({ schema: openApiSchema(createPartnerBody) })
  async create(@Body(new ZodBody(createPartnerBody)) body: CreatePartnerBody, @Req() request: Request, @Res() response: Response): Promise<void> {
    const caller = requestCaller(request, admin);
    await this.idempotency.respond<PartnerView>('admin', request, response, 201, (claim) => this.partners.create(body.name, caller, claim));
  }

  @Get()
  @ApiQueryFrom(pageQuery('ptn'))
  @ApiOperation({ summary: 'List partners, oldest first, with a cursor', operationId: 'listPartners' })
  list(@Query() rawQuery: Record<string, unknown>): Promise<{ items: PartnerView[]; next_cursor: string | null }> {
    const query = parseOrThrow(pageQuery('ptn'), rawQuery, 'query');
    return this.partners.list(query.limit, query.cursor);
  }

  @Get(':partnerId')
  @ApiProblems('PARTNER_NOT_FOUND')
  @ApiOperation({ summary: 'A partner', operationId: 'getPartner' })
  get(@Param('partnerId') partnerId: string): Promise<PartnerView> {
    checkPartnerId(partnerId);
    return this.partners.get(partnerId);
  }

  /**
   * No Idempotency-Key here: a replay would have to store the key to show it
   * again. A retried request makes a second key; revoke the one not used.
   */
  @Post(':partnerId/api-keys')
  @ApiProblems('PARTNER_NOT_FOUND')
  @ApiOperation({ summary: 'Issue an API key (shown once)', operationId: 'issueApiKey' })
  async issueKey(@Param('partnerId') partnerId: string, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<ApiKeyView & { key: string }> {
    checkPartnerId(partnerId);
    response.status(201).setHeader('Cache-Control', 'no-store');
    const issued = await this.partners.issueKey(partnerId, requestCaller(request, admin));
    // Usable everywhere the moment the caller has it: see ApiKeyPublication.
    await this.publication.waitUntilPublished(partnerStreamId(partnerId));
    return issued;
  }

  @Get(':partnerId/api-keys')
  @ApiProblems('PARTNER_NOT_FOUND')
  @ApiOperation({ summary: 'List a partner’s API keys (never the keys themselves)', operationId: 'listApiKeys' })
  async listKeys(@Param('partnerId') partnerId: string): Promise<{ items: ApiKeyView[] }> {
    checkPartnerId(partnerId);
    return { items: await this.partners.listKeys(partnerId) };
  }

  @Post(':partnerId/api-keys/:keyId/revoke')
  @ApiProblems('PARTNER_NOT_FOUND', 'API_KEY_NOT_FOUND')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key; every service refuses it within seconds', operationId: 'revokeApiKey' })
  revokeKey(@Param('partnerId') partnerId: string, @Param('keyId') keyId: string, @Req() request: Request): Promise<ApiKeyView> {
    checkPartnerId(partnerId);
    if (!idPattern('key').test(keyId)) throw new ApiKeyNotFoundError(keyId);
    return this.partners.revokeKey(partnerId, keyId, requestCaller(request, admin));
  }
}
