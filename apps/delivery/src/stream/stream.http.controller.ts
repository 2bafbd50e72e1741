import { Controller, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { allEventTypes, validateEventTypeFilter } from '@gancho/contracts';
import { PartnerId } from '@gancho/partner-auth';
import { ApiQueryFrom, parseOrThrow, ProblemError } from '@gancho/service-kit';
import { z } from 'zod';
import { parsePosition } from './stream-buffer';
import { StreamHub, type StreamedWebhook } from './stream-hub';
import { StreamAuthGuard } from './stream-auth.guard';
import { STREAM_CONFIG, type StreamConfig } from './stream.config';

const streamQuery = z.strictObject({
  /** Comma-separated filter, as an endpoint's event_types: `purchase.*`, exact types, or `*`. */
  events: z.string().max(2000).optional(),
  /** For clients that cannot send the Last-Event-ID header on their first request. */
  last_event_id: z.string().max(4000).optional(),
});

/** A slow reader is cut off past this much unsent data; it resumes from its last id. */
const maxBufferedBytes = 1024 * 1024;

/** One SSE frame per event; `data` is one JSON line (JSON never holds a raw line break). A frame without id (a test send) leaves the client's last event id as it was. */
export function webhookFrame(entry: StreamedWebhook, id: string | undefined): string {
  const data = {
    event_id: entry.eventId,
    webhook_id: entry.webhookId,
    type: entry.type,
    purchase_id: entry.purchaseId,
    occurred_at: entry.occurredAt,
    body: entry.body,
    ...(entry.test ? { test: true } : {}),
  };
  return `${id === undefined ? '' : `id: ${id}\n`}event: webhook\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The partner's status events, live, as server-sent events: what `gancho
 * listen` forwards to localhost. Each event's id is the client's resume
 * position; reconnecting with `Last-Event-ID` replays what arrived meanwhile
 * (within the resume window), then goes on live.
 */
@ApiTags('stream')
@ApiBearerAuth('partner')
@UseGuards(StreamAuthGuard)
@Controller()
export class StreamController {
  constructor(
    private readonly hub: StreamHub,
    @Inject(STREAM_CONFIG) private readonly config: StreamConfig,
  ) {}

  @Get('stream')
  @ApiQueryFrom(streamQuery)
  @ApiOperation({
    summary: 'Your status events live (text/event-stream); resume with Last-Event-ID',
    description:
      'Events: `ready` (data: {resumed, replayed}; its id is your starting position), `webhook` (data: {event_id, webhook_id, type, purchase_id, occurred_at, body}, body being the exact webhook JSON; a test send from POST /endpoints/{id}/test comes as a `webhook` with `test: true`, event_id its message id, and no SSE id: it is live only and not replayed on resume), `gap` (you were away longer than the resume window; read the message log). Comments (`: ping`) keep the connection alive.',
    operationId: 'streamEvents',
  })
  stream(@PartnerId() partnerId: string, @Query() raw: Record<string, unknown>, @Req() request: Request, @Res() response: Response): void {
    const query = parseOrThrow(streamQuery, raw, 'query');
    const filter = (query.events ?? allEventTypes)
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const unknown = validateEventTypeFilter(filter);
    if (filter.length === 0 || unknown.length > 0) {
      throw new ProblemError('VALIDATION_FAILED', `Unknown event types or prefixes: ${unknown.join(', ') || '(none given)'}.`);
    }
    const lastEventId = request.header('last-event-id') ?? query.last_event_id;
    const resumeFrom = lastEventId === undefined ? undefined : parsePosition(lastEventId.trim());
    if (lastEventId !== undefined && resumeFrom === undefined) {
      throw new ProblemError('VALIDATION_FAILED', 'Last-Event-ID is not an id this stream sent.');
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    request.socket.setNoDelay(true);
    request.socket.setTimeout(0);

    let closed = false;
    const write = (frame: string) => {
      if (closed) return;
      response.write(frame);
      if (response.writableLength > maxBufferedBytes) response.destroy();
    };
    // The ready frame goes first, so it is written before any replayed event.
    const pending: string[] = [];
    let opened = false;
    const stream = this.hub.open(partnerId, filter, resumeFrom, {
      send: (entry, id) => (opened ? write(webhookFrame(entry, id)) : pending.push(webhookFrame(entry, id))),
      close: () => response.end(),
    });
    write(`retry: 1000\nid: ${stream.startId}\nevent: ready\ndata: ${JSON.stringify({ resumed: resumeFrom !== undefined, replayed: stream.replayed, events: filter })}\n\n`);
    if (stream.gap) {
      write(
        `event: gap\ndata: ${JSON.stringify({ detail: `Some events arrived more than ${Math.round(this.config.STREAM_BUFFER_WINDOW_MS / 1000)} s ago, or past the per-partner buffer, and cannot be replayed; see GET /messages.` })}\n\n`,
      );
    }
    for (const frame of pending.splice(0)) write(frame);
    opened = true;

    const heartbeat = setInterval(() => write(': ping\n\n'), this.config.STREAM_HEARTBEAT_MS);
    response.on('close', () => {
      closed = true;
      clearInterval(heartbeat);
      stream.close();
    });
  }
}
