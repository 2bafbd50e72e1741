import { isEventType, statusOfEventType, type EventType } from './event-types';
import { isRfc3339, purchaseStatusEventProblems, type PurchaseStatusEventV1 } from './webhook-payload';

/**
 * The CloudEvents Kafka protocol binding, binary content mode, for status
 * events on `journey.purchase-status.v1`: attributes travel as `ce_*`
 * headers, the value is the JSON of the event data, the key is the purchase id
 * (so Kafka keeps each purchase's events in order). Pure functions: the
 * messaging adapter hands these fields to and from kafkajs.
 */
export const cloudEventsSpecVersion = '1.0';
export const journeyEventSource = '/gancho/journey';
export const jsonContentType = 'application/json';

export interface PurchaseStatusCloudEvent {
  /** Unique per event (`ce_id`); consumers de-duplicate on it, delivery uses it as `webhook-id`. */
  eventId: string;
  type: EventType;
  /** RFC 3339 (`ce_time`). */
  time: string;
  /** `ce_subject` and the Kafka key. */
  purchaseId: string;
  data: PurchaseStatusEventV1;
  /** W3C trace context. */
  traceparent?: string;
  tracestate?: string;
}

export interface CloudEventsKafkaMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** A Kafka message as a client hands it over (kafkajs gives Buffers; strings are fine too). */
export interface IncomingKafkaMessage {
  key?: string | Uint8Array | null;
  value: string | Uint8Array | null;
  headers?: Readonly<Record<string, string | Uint8Array | readonly (string | Uint8Array)[] | undefined>>;
}

export class InvalidCloudEventError extends Error {
  readonly code = 'INVALID_CLOUDEVENT' as const;

  constructor(readonly problems: readonly string[]) {
    super(`Invalid CloudEvent: ${problems.join('; ')}`);
    this.name = 'InvalidCloudEventError';
  }
}

function consistencyProblems(type: string, purchaseId: string, data: unknown): string[] {
  const problems = purchaseStatusEventProblems(data);
  if (problems.length > 0 || !isEventType(type)) return problems;
  const event = data as PurchaseStatusEventV1;
  if (event.status !== statusOfEventType(type)) problems.push(`data.status ${event.status} does not match type ${type}`);
  if (event.purchase_id !== purchaseId) problems.push(`data.purchase_id does not match the subject ${purchaseId}`);
  return problems;
}

/** The binary-mode Kafka message of a status event; throws `InvalidCloudEventError` on inconsistent input. */
export function toCloudEventsKafkaMessage(event: Omit<PurchaseStatusCloudEvent, 'time'> & { time: string | Date }): CloudEventsKafkaMessage {
  const time = typeof event.time === 'string' ? event.time : event.time.toISOString();
  const problems: string[] = [];
  if (event.eventId.length === 0) problems.push('eventId is empty');
  if (!isEventType(event.type)) problems.push(`type ${String(event.type)} is not a purchase event type`);
  if (!isRfc3339(time)) problems.push(`time ${time} is not RFC 3339`);
  if (event.purchaseId.length === 0) problems.push('purchaseId is empty');
  problems.push(...consistencyProblems(event.type, event.purchaseId, event.data));
  if (problems.length > 0) throw new InvalidCloudEventError(problems);

  const headers: Record<string, string> = {
    ce_specversion: cloudEventsSpecVersion,
    ce_id: event.eventId,
    ce_type: event.type,
    ce_source: journeyEventSource,
    ce_time: time,
    ce_subject: event.purchaseId,
    'content-type': jsonContentType,
  };
  if (event.traceparent !== undefined) headers['traceparent'] = event.traceparent;
  if (event.tracestate !== undefined) headers['tracestate'] = event.tracestate;
  return { key: event.purchaseId, value: JSON.stringify(event.data), headers };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function asText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : decoder.decode(value);
}

/** Header values by lower-case name; a header given more than once is ambiguous and kept as `null`. */
function headerMap(headers: IncomingKafkaMessage['headers'], problems: string[]): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? (raw as readonly (string | Uint8Array)[]) : [raw as string | Uint8Array];
    try {
      const key = name.toLowerCase();
      map.set(key, values.length === 1 && !map.has(key) ? asText(values[0] as string | Uint8Array) : null);
    } catch {
      problems.push(`header ${name} is not UTF-8`);
    }
  }
  return map;
}

/**
 * Reads a status event from a binary-mode Kafka message, checking the
 * required attributes and that the data is a `PurchaseStatusEventV1` of the
 * stated type and subject. Throws `InvalidCloudEventError` (code
 * `INVALID_CLOUDEVENT`) listing every problem.
 */
export function fromCloudEventsKafkaMessage(message: IncomingKafkaMessage): PurchaseStatusCloudEvent {
  const problems: string[] = [];
  const headers = headerMap(message.headers, problems);
  const required = (name: string): string => {
    const value = headers.get(name);
    if (value === undefined) problems.push(`header ${name} is missing`);
    else if (value === null) problems.push(`header ${name} is given more than once`);
    else if (value.length === 0) problems.push(`header ${name} is empty`);
    return value ?? '';
  };

  const specVersion = required('ce_specversion');
  const eventId = required('ce_id');
  const type = required('ce_type');
  required('ce_source');
  const time = required('ce_time');
  const purchaseId = required('ce_subject');
  const contentType = required('content-type');
  if (specVersion && specVersion !== cloudEventsSpecVersion) problems.push(`ce_specversion ${specVersion} is not ${cloudEventsSpecVersion}`);
  if (type && !isEventType(type)) problems.push(`ce_type ${type} is not a purchase event type`);
  if (time && !isRfc3339(time)) problems.push(`ce_time ${time} is not RFC 3339`);
  if (contentType && contentType.split(';')[0]?.trim().toLowerCase() !== jsonContentType) {
    problems.push(`content-type ${contentType} is not ${jsonContentType}`);
  }

  let key: string | undefined;
  try {
    key = message.key === null || message.key === undefined ? undefined : asText(message.key);
  } catch {
    problems.push('key is not UTF-8');
  }
  if (key !== undefined && purchaseId && key !== purchaseId) problems.push(`key ${key} does not match ce_subject ${purchaseId}`);

  let data: unknown;
  if (message.value === null) {
    problems.push('value is missing');
  } else {
    try {
      data = JSON.parse(asText(message.value));
    } catch {
      problems.push('value is not JSON');
    }
  }
  if (data !== undefined) problems.push(...consistencyProblems(type, purchaseId, data));
  if (problems.length > 0) throw new InvalidCloudEventError(problems);

  const event: PurchaseStatusCloudEvent = {
    eventId,
    type: type as EventType,
    time,
    purchaseId,
    data: data as PurchaseStatusEventV1,
  };
  const traceparent = headers.get('traceparent');
  const tracestate = headers.get('tracestate');
  if (traceparent) event.traceparent = traceparent;
  if (tracestate) event.tracestate = tracestate;
  return event;
}
