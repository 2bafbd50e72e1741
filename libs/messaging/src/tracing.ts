import { ROOT_CONTEXT, trace, type Link } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, recordError, SpanKind, startSpan, withSpan, type Attributes } from '@gancho/telemetry';
import type { IncomingMessage, OutgoingMessage } from './event-transport';

/** `messaging.system` of each adapter. */
export type MessagingSystem = 'kafka' | 'postgresql';

type Handler = { kind: 'message'; handle: (message: IncomingMessage) => Promise<void> } | { kind: 'batch'; handleBatch: (messages: IncomingMessage[]) => Promise<void> };

/**
 * Sends with one producer span per message (`send <topic>`), each a child of
 * the context the message already carries (a stored `traceparent`) or else
 * of the active one, and writes that span's context into the message's
 * headers: the consumer continues the trace from there.
 */
export async function sendTraced(system: MessagingSystem, topic: string, messages: OutgoingMessage[], send: (messages: OutgoingMessage[]) => Promise<void>): Promise<void> {
  const spans = messages.map((message) => startSpan(`send ${topic}`, sendAttributes(system, topic, message, messages.length), { kind: SpanKind.PRODUCER, parent: extractTraceContext(message.headers) }));
  const traced = messages.map((message, i) => {
    const span = spans[i];
    if (!span) return message;
    return { ...message, headers: injectTraceContext({ ...(message.headers ?? {}) }, trace.setSpan(ROOT_CONTEXT, span)) };
  });
  try {
    await send(traced);
  } catch (error) {
    for (const span of spans) recordError(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

function sendAttributes(system: MessagingSystem, topic: string, message: OutgoingMessage, count: number): Attributes {
  return {
    'messaging.system': system,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'messaging.destination.name': topic,
    ...(system === 'kafka' ? { 'messaging.kafka.message.key': message.key } : {}),
    ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
  };
}

/**
 * Wraps a subscription's handler in consumer spans: one `process <topic>`
 * span per message, the child of the producer span named in its headers; a
 * batch gets one span linked to the context of each of its messages (the
 * handler can continue each message's own trace from its headers).
 */
export function traceHandler<H extends Handler>(system: MessagingSystem, groupId: string, handler: H): H {
  const common = (message: IncomingMessage): Attributes => ({
    'messaging.system': system,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': message.topic,
    'messaging.destination.partition.id': String(message.partition),
    'messaging.consumer.group.name': groupId,
  });
  if (handler.kind === 'message') {
    const handle = handler.handle;
    return {
      kind: 'message',
      handle: (message: IncomingMessage) =>
        withSpan(`process ${message.topic}`, { ...common(message), 'messaging.kafka.offset': Number(message.offset) }, () => handle(message), {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(message.headers, ROOT_CONTEXT),
        }),
    } as H;
  }
  const handleBatch = handler.handleBatch;
  return {
    kind: 'batch',
    handleBatch: (messages: IncomingMessage[]) => {
      const first = messages[0];
      if (!first) return handleBatch(messages);
      const links: Link[] = [];
      for (const message of messages) {
        const context = trace.getSpanContext(extractTraceContext(message.headers, ROOT_CONTEXT));
        if (context) links.push({ context });
      }
      return withSpan(`process ${first.topic}`, { ...common(first), 'messaging.batch.message_count': messages.length }, () => handleBatch(messages), {
        kind: SpanKind.CONSUMER,
        parent: ROOT_CONTEXT,
        links,
      });
    },
  } as H;
}
