import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { PartnerRequest } from '@gancho/partner-auth';
import type { Actor, Caller } from './caller';

/** The actor, and the correlation and trace context of an HTTP request, for the events it appends. */
export function requestCaller(request: Request, actor: Actor): Caller {
  const header = (name: string) => request.header(name) || undefined;
  return {
    actor,
    context: {
      correlationId: header('x-correlation-id') ?? randomUUID(),
      ...(header('traceparent') ? { traceparent: header('traceparent') } : {}),
      ...(header('tracestate') ? { tracestate: header('tracestate') } : {}),
    },
  };
}

export function partnerActor(request: PartnerRequest): Actor {
  return { type: 'partner', partner_id: request.partnerId, api_key_id: request.apiKeyId };
}
