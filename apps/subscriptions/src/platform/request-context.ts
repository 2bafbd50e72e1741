import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { PartnerRequest } from '@gancho/partner-auth';
import type { Actor, CommandContext } from './stream-command';

/** Correlation and trace context of an HTTP request, for the events it appends. */
export function requestContext(request: Request, actor: Actor): Omit<CommandContext, 'manager'> {
  const header = (name: string) => request.header(name) || undefined;
  return {
    actor,
    correlationId: header('x-correlation-id') ?? randomUUID(),
    ...(header('traceparent') ? { traceparent: header('traceparent') } : {}),
    ...(header('tracestate') ? { tracestate: header('tracestate') } : {}),
  };
}

export function partnerActor(request: PartnerRequest): Actor {
  return { type: 'partner', partner_id: request.partnerId, api_key_id: request.apiKeyId };
}

/** Runs a command in a transaction of its own (routes without Idempotency-Key support). */
export function inTransaction<T>(dataSource: DataSource, context: Omit<CommandContext, 'manager'>, work: (context: CommandContext) => Promise<T>): Promise<T> {
  return dataSource.transaction((manager) => work({ ...context, manager }));
}
