import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { CommandContext } from '@gancho/event-store';
import { ApiProblems, ApiQueryFrom, IdempotencyService, openApiSchema, parseOrThrow, ProblemError, ZodBody } from '@gancho/service-kit';
import type { PurchaseCommand } from '@gancho/purchase-domain';
import { CLOCK, type Clock } from '../platform/clock';
import { newPurchaseId, purchaseIdPattern } from '../platform/ids';
import { commandRoutes, type CommandRoute } from './command-routes';
import { PlatformTokenGuard } from './platform-token.guard';
import { PurchaseCommandHandler } from './purchase-command.handler';
import { SubjectKeyring } from '../personal-data/subject-keyring';
import { listPurchases, purchaseView, studentView, type PurchaseView } from './purchase-projection';
import { listPurchasesQuery, openPurchaseBody, openPurchaseExample, type OpenPurchaseBody } from './purchase-requests';

const idempotencyKeyHeader = { name: 'Idempotency-Key', required: false, description: 'Same key and body: the first response is replayed and nothing is appended again.' };
const ifMatchHeader = { name: 'If-Match', required: false, description: 'The purchase version (ETag) the caller last saw; a newer purchase answers 409.' };

function notFound(purchaseId: string): ProblemError {
  return new ProblemError('PURCHASE_NOT_FOUND', `There is no purchase ${purchaseId}.`, { purchaseId });
}

function contextOf(request: Request): CommandContext {
  const header = (name: string) => request.header(name) || undefined;
  const ifMatch = header('if-match')?.replace(/^W\//, '').replace(/"/g, '');
  if (ifMatch !== undefined && !/^\d+$/.test(ifMatch)) throw new ProblemError('VALIDATION_FAILED', 'If-Match must be a purchase version, e.g. "3".');
  return {
    correlationId: header('x-correlation-id') ?? randomUUID(),
    ...(header('traceparent') ? { traceparent: header('traceparent') } : {}),
    ...(header('tracestate') ? { tracestate: header('tracestate') } : {}),
    ...(ifMatch !== undefined ? { expectedVersion: Number(ifMatch) } : {}),
  };
}

/**
 * The checkout platform's API: open purchases, send them through the journey
 * one command at a time, read them back. Every route builds a command and
 * calls the one handler.
 */
@ApiTags('purchases')
@ApiBearerAuth('platform')
@UseGuards(PlatformTokenGuard)
@Controller('purchases')
export class PurchasesController {
  constructor(
    private readonly handler: PurchaseCommandHandler,
    private readonly idempotency: IdempotencyService,
    @Inject(CLOCK) private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyring: SubjectKeyring,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Open a purchase', operationId: 'openPurchase' })
  @ApiHeader(idempotencyKeyHeader)
  @ApiProblems('PURCHASE_ALREADY_EXISTS')
  @ApiBody({ schema: openApiSchema(openPurchaseBody), examples: { course: { summary: 'A data-science course in Brazil, paid in reais', value: openPurchaseExample } } })
  async open(@Body(new ZodBody(openPurchaseBody)) body: OpenPurchaseBody, @Req() request: Request, @Res() response: Response): Promise<void> {
    const now = this.clock.now();
    const purchaseId = body.purchase_id ?? newPurchaseId(now);
    const context = contextOf(request);
    const command: PurchaseCommand = {
      type: 'OpenPurchase',
      data: {
        purchaseId,
        partnerId: body.partner_id,
        course: { id: body.course.id, name: body.course.name, priceCents: body.course.price_cents, currency: body.course.currency },
        student: { name: body.student.name, email: body.student.email },
        studentLoggedIn: body.student_logged_in,
      },
      metadata: { now, ...(context.correlationId ? { correlationId: context.correlationId } : {}) },
    };
    await this.answer(command, context, 201, request, response);
  }

  @Get()
  @ApiQueryFrom(listPurchasesQuery)
  @ApiOperation({ summary: 'List purchases (by partner and status), oldest first, with a cursor', operationId: 'listPurchases' })
  async list(@Query() rawQuery: Record<string, unknown>): Promise<unknown> {
    const query = parseOrThrow(listPurchasesQuery, rawQuery, 'query');
    const page = await listPurchases(
      this.dataSource.manager,
      {
        limit: query.limit,
        ...(query.partner_id ? { partnerId: query.partner_id } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { after: query.cursor } : {}),
      },
      (subjectIds) => this.keyring.keysOf(subjectIds),
    );
    return { items: page.items, next_cursor: page.nextCursor };
  }

  @Get(':id')
  @ApiProblems('PURCHASE_NOT_FOUND')
  @ApiOperation({ summary: 'A purchase: its state and its whole history', operationId: 'getPurchase' })
  async get(@Param('id') purchaseId: string, @Res({ passthrough: true }) response: Response): Promise<unknown> {
    if (!purchaseIdPattern.test(purchaseId)) throw notFound(purchaseId);
    const { state, previousStatus, history, subject } = await this.handler.load(purchaseId);
    if (!state.exists) throw notFound(purchaseId);
    response.setHeader('ETag', `"${state.version}"`);
    return {
      // An erased student shows as { subject_id, erased: true, erased_at }: the statuses stay, the data is gone.
      ...purchaseView(state, previousStatus, studentView(state.student, subject)),
      history: history.map((event) => ({
        event_id: event.eventId,
        type: event.type,
        sequence: event.streamVersion,
        status: event.data.status,
        occurred_at: event.data.occurredAt,
        recorded_at: event.recordedAt.toISOString(),
        ...('reason' in event.data && event.data.reason ? { reason: event.data.reason } : {}),
        ...('decision' in event.data && event.data.decision ? { decision: event.data.decision } : {}),
      })),
    };
  }

  /** Shared by the generated per-command routes below. */
  async runCommand(route: CommandRoute, purchaseId: string, rawBody: unknown, request: Request, response: Response): Promise<void> {
    if (!purchaseIdPattern.test(purchaseId)) throw notFound(purchaseId);
    const body = parseOrThrow(route.body, rawBody ?? {});
    const now = this.clock.now();
    const context = contextOf(request);
    const command = {
      type: route.type,
      data: { purchaseId, ...(body.decision ? { decision: body.decision } : {}), ...(body.reason ? { reason: body.reason } : {}) },
      metadata: { now, ...(context.correlationId ? { correlationId: context.correlationId } : {}) },
    } as PurchaseCommand; // the route's body schema matches the command's data type (see command-routes.ts)
    await this.answer(command, context, 200, request, response);
  }

  /**
   * Runs the command; with an Idempotency-Key, its one statement also
   * stores the answer under the key (see IdempotencyService.respond).
   */
  private async answer(command: PurchaseCommand, context: CommandContext, status: number, request: Request, response: Response): Promise<void> {
    await this.idempotency.respond<PurchaseView>('platform', request, response, status, async (claim) => {
      const handled = await this.handler.execute(command.data.purchaseId, command, context, claim ? { gateFor: claim } : {});
      return handled?.purchase;
    });
  }
}

// One POST /purchases/{id}/<command> route per command, generated from the
// command table so that a new command gets its route (and its OpenAPI entry).
for (const route of commandRoutes) {
  const methodName = `command${route.type}`;
  const prototype = PurchasesController.prototype as unknown as Record<string, unknown>;
  // Only the request and the response as parameters: each Nest parameter costs a pipe run per request.
  prototype[methodName] = function (this: PurchasesController, request: Request, response: Response) {
    return this.runCommand(route, String(request.params['id']), request.body, request, response);
  };
  const descriptor = Object.getOwnPropertyDescriptor(prototype, methodName) as PropertyDescriptor;
  Reflect.defineMetadata('design:paramtypes', [Object, Object], prototype, methodName);
  Req()(prototype, methodName, 0);
  Res()(prototype, methodName, 1);
  for (const decorate of [
    Post(`:id/${route.path}`),
    ApiOperation({ summary: `${route.type}`, operationId: methodName }),
    // Generated routes get no path parameter from reflection: declare it, or the document is invalid.
    ApiParam({ name: 'id', description: 'The purchase id.', schema: { type: 'string', pattern: purchaseIdPattern.source } }),
    ApiHeader(idempotencyKeyHeader),
    ApiHeader(ifMatchHeader),
    // A command the purchase's status does not allow; an If-Match older than the purchase (or a concurrent command).
    ApiProblems('PURCHASE_NOT_FOUND', 'ILLEGAL_TRANSITION', 'STREAM_VERSION_CONFLICT', 'INVALID_COMMAND'),
    ApiBody({ schema: openApiSchema(route.body) }),
  ]) {
    decorate(prototype, methodName, descriptor);
  }
}
