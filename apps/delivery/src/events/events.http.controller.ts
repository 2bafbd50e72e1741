import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { eventTypes, matchesEventTypeFilter } from '@gancho/contracts';
import { PartnerAuthGuard, PartnerId } from '@gancho/partner-auth';
import { queryRows } from '@gancho/persistence';
import { ApiProblems, ApiQueryFrom, dateTimeParameter, openApiSchema, parseDateTime, parseOrThrow, ProblemError } from '@gancho/service-kit';
import { z } from 'zod';
import type { DeliveryConfig } from '../delivery.config';
import { EndpointDirectory } from '../routing/endpoint-directory';
import { statusEventPageResponse, statusEventResponse } from './event-responses';

const listQuery = z.strictObject({
  event_type: z.enum(eventTypes).optional(),
  purchase_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a purchase id')
    .optional(),
  since: dateTimeParameter.optional().describe('Events that occurred at or after this instant (at most the retention window back, 30 days by default).'),
  until: dateTimeParameter.optional().describe('Events that occurred before this instant.'),
  undelivered_to: z
    .string()
    .max(64)
    .optional()
    .describe(
      'An endpoint id: only events of the types it takes that it has not received with a 2xx — routed to it and not succeeded (pending, failed, exhausted, skipped), or not routed to it at all because it was disabled at the time.',
    ),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().describe('The `next_cursor` of the previous page.'),
});

interface EventRow {
  event_id: string;
  event_type: string;
  purchase_id: string;
  sequence: number;
  occurred_at: Date;
  message_ids: string[];
  payload: string;
}

interface DeliveryRow {
  message_id: string;
  endpoint_id: string;
  status: string;
  attempts: number;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const eventColumns = 'e.event_id, e.event_type, e.purchase_id, e.sequence, e.occurred_at, e.message_ids, e.payload';

/** The position after a row, for the next page: opaque to the partner (and checked on the way back in). */
function encodeCursor(row: EventRow): string {
  return Buffer.from(`${row.occurred_at.toISOString()}|${row.event_id}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const [rawAt, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // A forged cursor meets the same rules as the parameters before it reaches PostgreSQL (a bad uuid or date would be its error, a 500).
  const at = rawAt === undefined ? undefined : parseDateTime(rawAt);
  if (!at || !id || !uuidPattern.test(id) || extra !== undefined) {
    throw new ProblemError('VALIDATION_FAILED', 'The cursor is not one this API gave.', { errors: [{ path: 'cursor', message: 'is not a cursor this API gave' }] });
  }
  return [at, id];
}

/**
 * The partner's status events, whether or not an endpoint took them, with
 * each one's delivery state per endpoint: for catching up after an outage
 * (`undelivered_to`) without asking support. Scoped to the API key's
 * partner; another partner's event or endpoint is answered 404.
 */
@ApiTags('events')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('events')
export class EventsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly directory: EndpointDirectory,
    private readonly config: ConfigService<DeliveryConfig, true>,
  ) {}

  @Get()
  @ApiOkResponse({ schema: openApiSchema(statusEventPageResponse) })
  @ApiQueryFrom(listQuery)
  @ApiProblems('NOT_FOUND')
  @ApiOperation({
    summary: 'Your status events of the retention window (30 days by default), newest first, with filters, a cursor and the delivery state per endpoint',
    operationId: 'listEvents',
  })
  async list(@PartnerId() partnerId: string, @Query() raw: Record<string, unknown>): Promise<unknown> {
    const query = parseOrThrow(listQuery, raw, 'query');
    if (query.since && query.until && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new ProblemError('VALIDATION_FAILED', 'since must be before until.', { errors: [{ path: 'since', message: 'must be before until' }] });
    }
    const windowStart = new Date(Date.now() - this.config.get('EVENTS_RETENTION_MS', { infer: true }));
    const since = query.since && Date.parse(query.since) > windowStart.getTime() ? query.since : windowStart.toISOString();
    const conditions = ['e.partner_id = $1', `e.occurred_at >= $2`];
    const params: unknown[] = [partnerId, since];
    if (query.until) conditions.push(`e.occurred_at < $${params.push(query.until)}`);
    if (query.event_type) conditions.push(`e.event_type = $${params.push(query.event_type)}`);
    if (query.purchase_id) conditions.push(`e.purchase_id = $${params.push(query.purchase_id)}`);
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor);
      conditions.push(`(e.occurred_at, e.event_id) < ($${params.push(at)}::timestamptz, $${params.push(id)}::uuid)`);
    }
    if (query.undelivered_to) {
      const endpoint = this.ownEndpoint(partnerId, query.undelivered_to);
      const types = eventTypes.filter((type) => matchesEventTypeFilter(endpoint.event_types, type));
      // One type is an equality (the type index then yields the order, no sort); all of them, no condition.
      if (types.length === 1) conditions.push(`e.event_type = $${params.push(types[0])}`);
      else if (types.length < eventTypes.length) conditions.push(`e.event_type = ANY($${params.push(types)}::text[])`);
      // Its message to the endpoint (a primary-key look-up per message id): not succeeded, or none although the event
      // came after the endpoint was created (it was disabled then, or took other types).
      const x = params.push(query.undelivered_to);
      conditions.push(`NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_id = ANY(e.message_ids) AND m.endpoint_id = $${x} AND m.status = 'succeeded')`);
      conditions.push(`(e.ingested_at >= $${params.push(endpoint.created_at)}::timestamptz OR EXISTS (SELECT 1 FROM messages m WHERE m.message_id = ANY(e.message_ids) AND m.endpoint_id = $${x}))`);
    }
    const rows = await queryRows<EventRow>(
      this.dataSource,
      `SELECT ${eventColumns} FROM status_events e WHERE ${conditions.join(' AND ')} ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT $${params.push(query.limit + 1)}`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: await this.withDeliveries(partnerId, page), next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  @Get(':id')
  @ApiOkResponse({ schema: openApiSchema(statusEventResponse) })
  @ApiProblems('NOT_FOUND')
  @ApiOperation({ summary: 'One status event, with its delivery state per endpoint', operationId: 'getEvent' })
  async get(@PartnerId() partnerId: string, @Param('id') eventId: string): Promise<unknown> {
    const windowStart = new Date(Date.now() - this.config.get('EVENTS_RETENTION_MS', { infer: true }));
    const [row] = uuidPattern.test(eventId)
      ? await queryRows<EventRow>(this.dataSource, `SELECT ${eventColumns} FROM status_events e WHERE e.event_id = $1 AND e.partner_id = $2 AND e.occurred_at >= $3`, [eventId, partnerId, windowStart])
      : [];
    if (!row) throw new ProblemError('NOT_FOUND', `There is no event ${eventId}.`);
    const [event] = await this.withDeliveries(partnerId, [row]);
    return event;
  }

  /** The events as the API shows them, with the state of their messages (one query by primary key for the page). */
  private async withDeliveries(partnerId: string, rows: readonly EventRow[]): Promise<unknown[]> {
    const messageIds = rows.flatMap((row) => row.message_ids);
    const deliveries =
      messageIds.length === 0
        ? []
        : await queryRows<DeliveryRow>(
            this.dataSource,
            `SELECT message_id, endpoint_id, status, attempts, last_attempt_at, last_status_code, last_error, next_attempt_at
               FROM messages WHERE message_id = ANY($1::text[]) AND partner_id = $2`,
            [messageIds, partnerId],
          );
    const byId = new Map(deliveries.map((d) => [d.message_id, d]));
    return rows.map((row) => {
      const body = JSON.parse(row.payload) as { data: Record<string, unknown> };
      return {
        event_id: row.event_id,
        type: row.event_type,
        occurred_at: row.occurred_at.toISOString(),
        purchase_id: row.purchase_id,
        sequence: row.sequence,
        data: body.data,
        deliveries: row.message_ids.flatMap((id) => {
          const d = byId.get(id);
          return d
            ? [
                {
                  endpoint_id: d.endpoint_id,
                  message_id: d.message_id,
                  status: d.status,
                  attempt_count: d.attempts,
                  last_attempt_at: iso(d.last_attempt_at),
                  last_status_code: d.last_status_code,
                  last_error: d.last_error,
                  next_attempt_at: iso(d.next_attempt_at),
                },
              ]
            : [];
        }),
      };
    });
  }

  private ownEndpoint(partnerId: string, endpointId: string) {
    const state = this.directory.get(endpointId)?.state;
    if (state?.partner_id !== partnerId) throw new ProblemError('NOT_FOUND', `There is no endpoint ${endpointId}.`);
    return state;
  }
}
