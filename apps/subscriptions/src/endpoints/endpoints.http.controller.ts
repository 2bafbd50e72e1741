import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PartnerAuthGuard, type PartnerRequest } from '@gancho/partner-auth';
import { ApiProblems, ApiQueryFrom, IdempotencyService, openApiSchema, parseOrThrow, ProblemError, ZodBody } from '@gancho/service-kit';
import { auditResponse, endpointPageResponse, endpointResponse, rotateResponse, secretsResponse } from '../partner-api-responses';
import { idPattern } from '../platform/ids';
import { partnerActor, requestCaller } from '../platform/request-context';
import { pageQuery } from '../partners/partner-requests';
import { EndpointNotFoundError } from '@gancho/subscriptions-domain';
import { createEndpointBody, updateEndpointBody, type CreateEndpointBody, type DestinationBody, type UpdateEndpointBody } from './endpoint-requests';
import { EndpointService, type ChangesInput, type DestinationInput, type RotationView, type SecretsView, type SettingsInput } from './endpoint-service';
import type { EndpointAuthBody } from './endpoint-auth';
import { EndpointUrlPolicy } from './endpoint-url-policy';
import type { AuditEntry, EndpointView } from './endpoint-views';

const idempotencyKeyHeader = { name: 'Idempotency-Key', required: false, description: 'Same key and body: the first response is replayed and nothing is done twice.' };

function checkEndpointId(endpointId: string): void {
  if (!idPattern('ep').test(endpointId)) throw new EndpointNotFoundError(endpointId);
}

// The url is required for a webhook (destination left out or {type: "webhook"}) and absent for ActiveCampaign, which
// the zod schema checks in a refinement; this says the same to a client generator or a fuzzer.
const createEndpointRequestSchema: ReturnType<typeof openApiSchema> = {
  ...openApiSchema(createEndpointBody),
  anyOf: [
    { required: ['url'], properties: { destination: { properties: { type: { const: 'webhook' } } } } },
    { required: ['destination'], properties: { destination: { required: ['type'], properties: { type: { const: 'activecampaign' } } } } },
  ],
};
const createEndpointExample = {
  url: 'https://escola.exemplo.com.br/webhooks/gancho',
  description: 'Matrículas da Escola Azul',
  event_types: ['purchase.made_effective', 'purchase.paid'],
  ordering: 'per_purchase',
};

function invalid(path: string, message: string): ProblemError {
  return new ProblemError('VALIDATION_FAILED', 'The request body is invalid.', { errors: [{ path, message }] });
}

function changesOf(body: UpdateEndpointBody, url: string | undefined, auth: EndpointAuthBody | null | undefined): ChangesInput {
  return {
    ...(url !== undefined ? { url } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.event_types !== undefined ? { eventTypes: [...new Set(body.event_types)] } : {}),
    ...(body.headers !== undefined ? { headers: body.headers } : {}),
    ...(body.rate_limit_per_second !== undefined ? { rateLimitPerSecond: body.rate_limit_per_second } : {}),
    ...(body.ordering !== undefined ? { ordering: body.ordering } : {}),
    ...(body.payload_filter !== undefined ? { payloadFilter: body.payload_filter } : {}),
    ...(auth !== undefined ? { auth } : {}),
    ...(body.include_personal_data !== undefined ? { includePersonalData: body.include_personal_data } : {}),
  };
}

/**
 * A partner's webhook endpoints, through its API key. Tenant-scoped: another
 * partner's endpoint answers 404 ENDPOINT_NOT_FOUND, exactly like one that
 * does not exist.
 */
@ApiTags('endpoints')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('endpoints')
export class EndpointsController {
  constructor(
    private readonly endpoints: EndpointService,
    private readonly urls: EndpointUrlPolicy,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiCreatedResponse({ schema: openApiSchema(endpointResponse) })
  @ApiProblems('ENDPOINT_URL_NOT_ALLOWED', 'INVALID_PAYLOAD_FILTER', 'SERVICE_UNAVAILABLE')
  @ApiOperation({
    summary: 'Create an endpoint (its signing secret is made with it)',
    description:
      'A webhook endpoint (`destination` left out, or `{"type":"webhook"}`) needs a `url`. An ActiveCampaign endpoint leaves `url` out and gives `destination: {"type":"activecampaign","api_url":"https://<account>.api-us1.com","api_token":"…","mapping":{…}}`; the token is stored encrypted and only its last four characters are ever shown (`destination.api_token_last4`); `event_tracking: {actid, event_key}` (optional) also records each status as an AC event. Endpoints answer with `destination` (webhook, or activecampaign with api_url, api_token_last4, mapping and event_tracking {actid, event_key_last4} | null). See docs/activecampaign.md. A webhook endpoint may also authenticate itself besides the signature with `auth`: HTTP Basic, OAuth 2.0 client credentials (delivery fetches and caches the bearer token) or mutual TLS (a client certificate and key); its secrets are stored encrypted and answered masked. See docs/subscriptions.md#endpoint-authentication.',
    operationId: 'createEndpoint',
  })
  @ApiHeader(idempotencyKeyHeader)
  @ApiBody({ schema: createEndpointRequestSchema, examples: { webhook: { summary: 'A school’s enrolment webhook', value: createEndpointExample } } })
  async create(@Body(new ZodBody(createEndpointBody)) body: CreateEndpointBody, @Req() request: PartnerRequest, @Res() response: Response): Promise<void> {
    const destination = await this.destinationInput(body.destination);
    // The request schema requires a url for a webhook; an ActiveCampaign endpoint's url is its API URL.
    const url = destination.type === 'activecampaign' ? destination.apiUrl : await this.urls.accept(body.url ?? '');
    const settings: SettingsInput = {
      url,
      description: body.description,
      eventTypes: [...new Set(body.event_types)],
      headers: body.headers,
      rateLimitPerSecond: body.rate_limit_per_second,
      ordering: body.ordering ?? (destination.type === 'activecampaign' ? 'per_purchase' : 'none'),
      payloadFilter: body.payload_filter,
      auth: await this.authInput(body.auth),
      includePersonalData: body.include_personal_data,
    };
    const caller = requestCaller(request, partnerActor(request));
    // Scoped per partner: two partners using the same key never see each other's responses.
    await this.idempotency.respond<EndpointView>(`partner:${request.partnerId}`, request, response, 201, (claim) => this.endpoints.create(request.partnerId, settings, destination, body.enabled, caller, claim));
  }

  @Get()
  @ApiOkResponse({ schema: openApiSchema(endpointPageResponse) })
  @ApiQueryFrom(pageQuery('ep'))
  @ApiOperation({ summary: 'List your endpoints, oldest first, with a cursor', operationId: 'listEndpoints' })
  list(@Query() rawQuery: Record<string, unknown>, @Req() request: PartnerRequest): Promise<{ items: EndpointView[]; next_cursor: string | null }> {
    const query = parseOrThrow(pageQuery('ep'), rawQuery, 'query');
    return this.endpoints.list(request.partnerId, query.limit, query.cursor);
  }

  @Get(':id')
  @ApiOkResponse({ schema: openApiSchema(endpointResponse) })
  @ApiProblems('ENDPOINT_NOT_FOUND')
  @ApiOperation({ summary: 'An endpoint', operationId: 'getEndpoint' })
  get(@Param('id') endpointId: string, @Req() request: PartnerRequest): Promise<EndpointView> {
    checkEndpointId(endpointId);
    return this.endpoints.get(request.partnerId, endpointId);
  }

  @Patch(':id')
  @ApiOkResponse({ schema: openApiSchema(endpointResponse) })
  @ApiProblems('ENDPOINT_NOT_FOUND', 'ENDPOINT_URL_NOT_ALLOWED', 'INVALID_PAYLOAD_FILTER', 'SERVICE_UNAVAILABLE')
  @ApiOperation({
    summary: 'Change an endpoint; `enabled: true` re-enables it',
    description:
      'Every field is optional; a field left out keeps its value. `headers` changes headers one by one: a header given with a value is set (replacing the current one of that name, in any case), a header given as `null` is removed, and a header left out keeps its value — header values are never shown again, so they never need to be resent. `auth` given replaces the whole authentication in one change (how a credential is rotated: every request carries the old or the new one, never none); `auth: null` removes it. See docs/subscriptions.md.',
    operationId: 'updateEndpoint',
  })
  @ApiBody({ schema: openApiSchema(updateEndpointBody) })
  async update(@Param('id') endpointId: string, @Body(new ZodBody(updateEndpointBody)) body: UpdateEndpointBody, @Req() request: PartnerRequest): Promise<EndpointView> {
    checkEndpointId(endpointId);
    // Another partner's endpoint is not found before its URL is looked at.
    const current = await this.endpoints.load(request.partnerId, endpointId);
    const destination = body.destination === undefined ? undefined : await this.destinationInput(body.destination);
    const activeCampaignAfter = destination ? destination.type === 'activecampaign' : current.settings.destination.type === 'activecampaign';
    if (activeCampaignAfter && body.url !== undefined) throw invalid('url', "an ActiveCampaign endpoint's url is its destination.api_url");
    if (destination?.type === 'webhook' && current.settings.destination.type !== 'webhook' && body.url === undefined) throw invalid('url', 'a webhook endpoint needs a url');
    const url = destination?.type === 'activecampaign' ? destination.apiUrl : body.url === undefined ? undefined : await this.urls.accept(body.url);
    const auth = body.auth === undefined ? undefined : await this.authInput(body.auth);
    return this.endpoints.update(request.partnerId, endpointId, changesOf(body, url, auth), body.enabled, requestCaller(request, partnerActor(request)), destination);
  }

  /** The auth with its token URL through the endpoint URL policy: delivery would refuse to ask a token of any other (422 ENDPOINT_URL_NOT_ALLOWED, field auth.token_url). */
  private async authInput(auth: EndpointAuthBody | null): Promise<EndpointAuthBody | null> {
    if (auth?.type !== 'oauth2_client_credentials') return auth;
    try {
      return { ...auth, token_url: await this.urls.accept(auth.token_url) };
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'ENDPOINT_URL_NOT_ALLOWED')
        throw new ProblemError(error.code, error.message.replace('this URL', 'this token URL'), { ...error.extensions, field: 'auth.token_url' });
      throw error;
    }
  }

  /** The destination with its API URL checked by the URL policy (the token stays in the clear until the service seals it). */
  private async destinationInput(body: DestinationBody): Promise<DestinationInput> {
    if (body.type === 'webhook') return { type: 'webhook' };
    return {
      type: 'activecampaign',
      apiUrl: await this.urls.acceptApiBase(body.api_url),
      ...(body.api_token === undefined ? {} : { apiToken: body.api_token }),
      ...(body.mapping === undefined ? {} : { mapping: body.mapping }),
      ...(body.event_tracking === undefined ? {} : { eventTracking: body.event_tracking === null ? null : { actid: body.event_tracking.actid, eventKey: body.event_tracking.event_key } }),
      ...(body.on_erasure === undefined ? {} : { onErasure: body.on_erasure }),
    };
  }

  @Delete(':id')
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems('ENDPOINT_NOT_FOUND')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint; nothing is delivered to it any more', operationId: 'deleteEndpoint' })
  async delete(@Param('id') endpointId: string, @Req() request: PartnerRequest): Promise<void> {
    checkEndpointId(endpointId);
    await this.endpoints.delete(request.partnerId, endpointId, requestCaller(request, partnerActor(request)));
  }

  @Get(':id/secret')
  @ApiOkResponse({ schema: openApiSchema(secretsResponse) })
  @ApiProblems('ENDPOINT_NOT_FOUND')
  @ApiOperation({ summary: 'The signing secret (and, during a rotation, the previous one)', operationId: 'getEndpointSecret' })
  secret(@Param('id') endpointId: string, @Req() request: PartnerRequest, @Res({ passthrough: true }) response: Response): Promise<SecretsView> {
    checkEndpointId(endpointId);
    response.setHeader('Cache-Control', 'no-store');
    return this.endpoints.secrets(request.partnerId, endpointId);
  }

  /** The answer holds no secret (an Idempotency-Key replay stores it): read the new one with GET …/secret. */
  @Post(':id/secret/rotate')
  @ApiOkResponse({ schema: openApiSchema(rotateResponse) })
  @ApiProblems('ENDPOINT_NOT_FOUND')
  @ApiOperation({ summary: 'Rotate the signing secret; the previous one stays valid for the overlap', operationId: 'rotateEndpointSecret' })
  @ApiHeader(idempotencyKeyHeader)
  async rotate(@Param('id') endpointId: string, @Req() request: PartnerRequest, @Res() response: Response): Promise<void> {
    checkEndpointId(endpointId);
    const caller = requestCaller(request, partnerActor(request));
    await this.idempotency.respond<RotationView>(`partner:${request.partnerId}`, request, response, 200, (claim) => this.endpoints.rotateSecret(request.partnerId, endpointId, caller, claim));
  }

  @Get(':id/audit')
  @ApiOkResponse({ schema: openApiSchema(auditResponse) })
  @ApiProblems('ENDPOINT_NOT_FOUND')
  @ApiOperation({ summary: 'The endpoint’s lifecycle: who changed what, when (no secrets)', operationId: 'getEndpointAudit' })
  async audit(@Param('id') endpointId: string, @Req() request: PartnerRequest): Promise<{ items: AuditEntry[] }> {
    checkEndpointId(endpointId);
    return { items: await this.endpoints.audit(request.partnerId, endpointId) };
  }
}
