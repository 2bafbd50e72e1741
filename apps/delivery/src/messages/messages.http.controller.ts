import { randomBytes, randomUUID } from 'node:crypto';
import { queryRows } from '@gancho/persistence';
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { eventTypes, operationalEventTypes, webhookEventTypes, type EventType } from '@gancho/contracts';
import { PartnerAuthGuard, PartnerId } from '@gancho/partner-auth';
import { ApiProblems, ApiQueryFrom, dateTimeParameter, openApiSchema, parseDateTime, parseOrThrow, ProblemError, ZodBody } from '@gancho/service-kit';
import { z } from 'zod';
import { Dispatcher } from '../dispatch/dispatcher';
import { MessageStore } from '../dispatch/message-store';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { messageActionResponse, messageDetailResponse, messagePageResponse, messageStatuses, recoverResponse, statsResponse, testResponse, timeseriesResponse } from './message-responses';
import { testMessageIdPrefix, testStatusEvent, testWebhookBody } from './test-message';
import { chooseBucket, endpointTimeseries, maxTimeseriesPoints, timeseriesBuckets, type TimeseriesBucket } from './endpoint-timeseries';

const listQuery = z.strictObject({
  endpoint_id: z.string().max(64).optional(),
  event_type: z.enum([...webhookEventTypes, ...operationalEventTypes]).optional(),
  status: z.enum(messageStatuses).optional(),
  since: dateTimeParameter.optional(),
  until: dateTimeParameter.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
const recoverBody = z.strictObject({ since: dateTimeParameter, until: dateTimeParameter.optional() });
const testBody = z.strictObject({ event_type: z.enum(eventTypes) });
const statsQuery = z.strictObject({ since: dateTimeParameter.optional(), until: dateTimeParameter.optional() });
const timeseriesQuery = statsQuery.extend({
  bucket: z.enum(Object.keys(timeseriesBuckets) as [TimeseriesBucket, ...TimeseriesBucket[]]).optional(),
});

interface MessageRow {
  message_id: string;
  endpoint_id: string;
  event_type: string;
  purchase_id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  sequence: number;
  ordered: boolean;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const messageView = (m: MessageRow) => ({
  message_id: m.message_id,
  endpoint_id: m.endpoint_id,
  event_type: m.event_type,
  purchase_id: m.purchase_id,
  status: m.status,
  attempt_count: m.attempts,
  next_attempt_at: iso(m.next_attempt_at),
  last_attempt_at: iso(m.last_attempt_at),
  last_status_code: m.last_status_code,
  last_error: m.last_error,
  created_at: m.created_at.toISOString(),
  sequence: m.sequence,
  ordered: m.ordered,
});

function encodeCursor(row: MessageRow): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.message_id}`).toString('base64url');
}

const messageIdPattern = /^msg_[0-9a-z_]{1,100}$/;

function decodeCursor(cursor: string): [string, string] {
  const [rawAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // Forged cursors meet the date-time rule of every other parameter, and carry a message id, before they reach PostgreSQL.
  const at = rawAt === undefined ? undefined : parseDateTime(rawAt);
  if (!at || !id || !messageIdPattern.test(id)) throw new ProblemError('VALIDATION_FAILED', 'The cursor is not one this API gave.');
  return [at, id];
}

/**
 * The partner's view of deliveries: the message log, each message's
 * attempts, resend, recovery of a window, test sends and endpoint stats.
 * Everything is scoped to the API key's partner; another partner's message
 * or endpoint is answered 404, as if it did not exist.
 */
@ApiTags('messages')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller()
export class MessagesController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly directory: EndpointDirectory,
    private readonly dispatcher: Dispatcher,
    private readonly messages: MessageStore,
  ) {}

  @Get('messages')
  @ApiOkResponse({ schema: openApiSchema(messagePageResponse) })
  @ApiQueryFrom(listQuery)
  @ApiOperation({ summary: 'The message log, newest first, with filters and a cursor', operationId: 'listMessages' })
  async list(@PartnerId() partnerId: string, @Query() raw: Record<string, unknown>): Promise<unknown> {
    const query = parseOrThrow(listQuery, raw, 'query');
    const conditions = ['partner_id = $1'];
    const params: unknown[] = [partnerId];
    if (query.endpoint_id) conditions.push(`endpoint_id = $${params.push(query.endpoint_id)}`);
    if (query.event_type) conditions.push(`event_type = $${params.push(query.event_type)}`);
    if (query.status) conditions.push(`status = $${params.push(query.status)}`);
    if (query.since) conditions.push(`created_at >= $${params.push(query.since)}`);
    if (query.until) conditions.push(`created_at < $${params.push(query.until)}`);
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor);
      conditions.push(`(created_at, message_id) < ($${params.push(at)}::timestamptz, $${params.push(id)})`);
    }
    const rows: MessageRow[] = await this.dataSource.query(`SELECT * FROM messages WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, message_id DESC LIMIT $${params.push(query.limit + 1)}`, params);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(messageView), next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  @Get('messages/:id')
  @ApiOkResponse({ schema: openApiSchema(messageDetailResponse) })
  @ApiProblems('NOT_FOUND')
  @ApiOperation({ summary: 'A message: what was sent, and every attempt with its response', operationId: 'getMessage' })
  async get(@PartnerId() partnerId: string, @Param('id') messageId: string): Promise<unknown> {
    const [message] = await this.dataSource.query('SELECT * FROM messages WHERE message_id = $1 AND partner_id = $2', [messageId, partnerId]);
    if (!message) throw new ProblemError('NOT_FOUND', `There is no message ${messageId}.`);
    const attempts = await this.dataSource.query('SELECT * FROM attempts WHERE message_id = $1 ORDER BY attempt_number', [messageId]);
    // An ordered message that is not settled may be held behind an earlier one of its purchase.
    const [blocker] =
      message.ordered && ['pending', 'sending'].includes(message.status)
        ? await this.dataSource.query(
            `SELECT message_id FROM messages WHERE ordered AND endpoint_id = $1 AND purchase_id = $2 AND sequence < $3 AND status IN ('pending', 'sending')
            ORDER BY sequence LIMIT 1`,
            [message.endpoint_id, message.purchase_id, message.sequence],
          )
        : [];
    return {
      ...messageView(message),
      waiting_behind: blocker?.message_id ?? null,
      payload: JSON.parse(message.payload),
      attempts: attempts.map((a: Record<string, unknown>) => ({
        attempt_number: a.attempt_number,
        started_at: iso(a.started_at as Date),
        latency_ms: a.latency_ms,
        status_code: a.status_code,
        error_class: a.error_class,
        error_message: a.error_message,
        response_snippet: a.response_snippet,
        outcome: a.outcome,
        next_attempt_at: iso(a.next_attempt_at as Date | null),
      })),
    };
  }

  @Post('messages/:id/resend')
  @ApiAcceptedResponse({ schema: openApiSchema(messageActionResponse) })
  @ApiProblems('NOT_FOUND')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a message again now (same webhook-id)', operationId: 'resendMessage' })
  async resend(@PartnerId() partnerId: string, @Param('id') messageId: string): Promise<unknown> {
    const [updated] = await queryRows(
      this.dataSource,
      `UPDATE messages SET status = 'pending', next_attempt_at = now(), leased_until = NULL
        WHERE message_id = $1 AND partner_id = $2 AND status <> 'sending' RETURNING message_id`,
      [messageId, partnerId],
    );
    if (!updated) {
      const [exists] = await this.dataSource.query('SELECT status FROM messages WHERE message_id = $1 AND partner_id = $2', [messageId, partnerId]);
      if (!exists) throw new ProblemError('NOT_FOUND', `There is no message ${messageId}.`);
    }
    this.dispatcher.wake();
    return { message_id: messageId, status: 'pending' };
  }

  @Post('messages/:id/skip')
  @ApiOkResponse({ schema: openApiSchema(messageActionResponse) })
  @ApiProblems('NOT_FOUND', 'ILLEGAL_TRANSITION')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give up on a message that is not delivered yet, so the next message of an ordered purchase can go', operationId: 'skipMessage' })
  async skip(@PartnerId() partnerId: string, @Param('id') messageId: string): Promise<unknown> {
    const [skipped] = await queryRows(
      this.dataSource,
      `UPDATE messages SET status = 'skipped', next_attempt_at = NULL, leased_until = NULL
        WHERE message_id = $1 AND partner_id = $2 AND status IN ('pending', 'failed', 'exhausted') RETURNING message_id`,
      [messageId, partnerId],
    );
    if (!skipped) {
      const [exists] = await this.dataSource.query('SELECT status FROM messages WHERE message_id = $1 AND partner_id = $2', [messageId, partnerId]);
      if (!exists) throw new ProblemError('NOT_FOUND', `There is no message ${messageId}.`);
      throw new ProblemError('ILLEGAL_TRANSITION', `A message that is ${exists.status} cannot be skipped.`, { currentStatus: exists.status });
    }
    this.dispatcher.wake();
    return { message_id: messageId, status: 'skipped' };
  }

  @Post('endpoints/:id/recover')
  @ApiAcceptedResponse({ schema: openApiSchema(recoverResponse) })
  @ApiProblems('NOT_FOUND')
  @HttpCode(202)
  @ApiOperation({ summary: 'Resend every message to this endpoint that failed in a time window', operationId: 'recoverEndpoint' })
  @ApiBody({ schema: openApiSchema(recoverBody) })
  async recover(@PartnerId() partnerId: string, @Param('id') endpointId: string, @Body(new ZodBody(recoverBody)) body: z.infer<typeof recoverBody>): Promise<unknown> {
    this.ownEndpoint(partnerId, endpointId);
    const rows = await queryRows(
      this.dataSource,
      `UPDATE messages SET status = 'pending', next_attempt_at = now(), leased_until = NULL
        WHERE endpoint_id = $1 AND partner_id = $2 AND status IN ('failed', 'exhausted') AND created_at >= $3 AND created_at < $4
        RETURNING message_id`,
      [endpointId, partnerId, body.since, body.until ?? new Date().toISOString()],
    );
    this.dispatcher.wake();
    return { endpoint_id: endpointId, resent: rows.length };
  }

  @Post('endpoints/:id/test')
  @ApiAcceptedResponse({ schema: openApiSchema(testResponse) })
  @ApiProblems('NOT_FOUND')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send the example of an event type to this endpoint', operationId: 'testEndpoint' })
  @ApiBody({ schema: openApiSchema(testBody) })
  async test(@PartnerId() partnerId: string, @Param('id') endpointId: string, @Body(new ZodBody(testBody)) body: z.infer<typeof testBody>): Promise<unknown> {
    this.ownEndpoint(partnerId, endpointId);
    const type = body.event_type as EventType;
    const data = testStatusEvent(type, partnerId);
    const messageId = `${testMessageIdPrefix}${randomBytes(9).toString('hex')}`;
    await this.messages.insert([
      {
        messageId,
        eventId: randomUUID(),
        endpointId,
        partnerId,
        eventType: type,
        purchaseId: data.purchase_id,
        payload: testWebhookBody(type, partnerId),
        eventRecordedAt: new Date().toISOString(),
        sequence: data.sequence,
        // A test send stands outside any purchase's order.
        ordered: false,
      },
    ]);
    this.dispatcher.wake();
    return { message_id: messageId, event_type: type };
  }

  @Get('endpoints/:id/stats')
  @ApiOkResponse({ schema: openApiSchema(statsResponse) })
  @ApiQueryFrom(statsQuery)
  @ApiProblems('NOT_FOUND')
  @ApiOperation({ summary: 'Success rate and latency percentiles of an endpoint over a window (24 h by default)', operationId: 'endpointStats' })
  async stats(@PartnerId() partnerId: string, @Param('id') endpointId: string, @Query() raw: Record<string, unknown>): Promise<unknown> {
    this.ownEndpoint(partnerId, endpointId);
    const query = parseOrThrow(statsQuery, raw, 'query');
    const until = query.until ?? new Date().toISOString();
    const since = query.since ?? new Date(Date.parse(until) - 24 * 3600_000).toISOString();
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS attempts,
              count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY latency_ms) AS p90,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
         FROM attempts WHERE endpoint_id = $1 AND finished_at >= $2 AND finished_at < $3`,
      [endpointId, since, until],
    );
    const [health] = await this.dataSource.query('SELECT last_success_at, first_failure_since_success_at, consecutive_failures FROM endpoint_health WHERE endpoint_id = $1', [endpointId]);
    const endpoint = this.directory.get(endpointId);
    return {
      endpoint_id: endpointId,
      since,
      until,
      attempts: row.attempts,
      succeeded: row.succeeded,
      success_rate: row.attempts === 0 ? null : row.succeeded / row.attempts,
      latency_ms: { p50: row.p50, p90: row.p90, p99: row.p99 },
      enabled: endpoint?.state.enabled ?? false,
      disabled_reason: endpoint?.state.disabled_reason ?? null,
      held_back: this.directory.heldBackState(endpointId)
        ? { reason: 'not_understood', detail: "This delivery cannot fully read the endpoint's latest state (it is from a newer release): it sends nothing to it until upgraded." }
        : null,
      last_success_at: iso(health?.last_success_at ?? null),
      failing_since: iso(health?.first_failure_since_success_at ?? null),
      consecutive_failures: health?.consecutive_failures ?? 0,
    };
  }

  @Get('endpoints/:id/stats/timeseries')
  @ApiOkResponse({ schema: openApiSchema(timeseriesResponse) })
  @ApiQueryFrom(timeseriesQuery)
  @ApiProblems('NOT_FOUND')
  @ApiOperation({
    summary: 'Success rate and latency of an endpoint over time, per bucket (24 h by default; bucket 1m…1d, chosen for about 120 points when not given)',
    operationId: 'endpointStatsTimeseries',
  })
  async timeseries(@PartnerId() partnerId: string, @Param('id') endpointId: string, @Query() raw: Record<string, unknown>): Promise<unknown> {
    this.ownEndpoint(partnerId, endpointId);
    const query = parseOrThrow(timeseriesQuery, raw, 'query');
    const until = new Date(query.until ?? Date.now());
    const since = new Date(query.since ?? until.getTime() - 24 * 3600_000);
    const windowMs = until.getTime() - since.getTime();
    if (windowMs <= 0) throw new ProblemError('VALIDATION_FAILED', 'since must be before until.');
    const bucket = chooseBucket(windowMs, query.bucket);
    if (windowMs / (bucket.seconds * 1000) > maxTimeseriesPoints) {
      throw new ProblemError('VALIDATION_FAILED', `That window holds more than ${maxTimeseriesPoints} buckets of ${bucket.name}; choose a wider bucket or a shorter window.`);
    }
    return {
      endpoint_id: endpointId,
      since: since.toISOString(),
      until: until.toISOString(),
      bucket: bucket.name,
      bucket_seconds: bucket.seconds,
      points: await endpointTimeseries(this.dataSource, endpointId, since, until, bucket.seconds),
    };
  }

  private ownEndpoint(partnerId: string, endpointId: string): void {
    const owner = this.directory.get(endpointId)?.state.partner_id ?? this.directory.heldBackState(endpointId)?.partnerId;
    if (owner !== partnerId) throw new ProblemError('NOT_FOUND', `There is no endpoint ${endpointId}.`);
  }
}
