import { Body, Controller, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiProblems, openApiSchema, ZodBody } from '@gancho/service-kit';
import { AdminTokenGuard } from '../partners/admin-token.guard';
import { PartnerNotFoundError } from '@gancho/subscriptions-domain';
import { idPattern } from '../platform/ids';
import { requestCaller } from '../platform/request-context';
import { ApiKeyPublication } from '../relay/api-key-publication';
import { minPortalSessionSeconds, portalSessionStreamId } from './portal-session';
import { PortalSessionService, type PortalSessionView } from './portal-session-service';

const issueBody = z.strictObject({
  ttl_seconds: z.number().int().min(minPortalSessionSeconds).optional().describe('How long the session lasts: default PORTAL_SESSION_TTL_MS (15 min), at most PORTAL_SESSION_MAX_TTL_MS (1 h).'),
});

/**
 * Embedding the partner console: the company's own partner dashboard (its
 * backend, with the admin token) asks for a short-lived, partner-scoped token
 * and opens the console in an iframe at `url` (`…/#portal=<token>`). The token
 * works on every partner API (subscriptions and delivery) until `expires_at`,
 * then gets 401 with `reason: "expired"`.
 */
@ApiTags('admin')
@ApiBearerAuth('admin')
@UseGuards(AdminTokenGuard)
@Controller('admin/partners')
export class PortalSessionsAdminController {
  constructor(
    private readonly sessions: PortalSessionService,
    private readonly publication: ApiKeyPublication,
  ) {}

  /** No Idempotency-Key: a replay would have to store the token. A retry makes a second session; both expire. */
  @Post(':partnerId/portal-sessions')
  @ApiProblems('PARTNER_NOT_FOUND')
  @ApiOperation({
    summary: 'Issue a short-lived, partner-scoped token for the embedded console (shown once)',
    description: 'The token is an API key with an expiry: every partner API accepts it as `Authorization: Bearer` until `expires_at`.',
    operationId: 'issuePortalSession',
  })
  @ApiBody({ schema: openApiSchema(issueBody), required: false })
  async issue(@Param('partnerId') partnerId: string, @Body(new ZodBody(issueBody)) body: z.infer<typeof issueBody>, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<PortalSessionView> {
    if (!idPattern('ptn').test(partnerId)) throw new PartnerNotFoundError(partnerId);
    response.status(201).setHeader('Cache-Control', 'no-store');
    const session = await this.sessions.issue(partnerId, body.ttl_seconds, requestCaller(request, { type: 'admin' }));
    // Usable everywhere the moment the caller has it: see ApiKeyPublication.
    await this.publication.waitUntilPublished(portalSessionStreamId(session.key_id));
    return session;
  }
}
