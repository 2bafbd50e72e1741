import { isEventType, statusOfEventType, type EventType } from './event-types';
import { purchaseStatusEventV2Problems, type PurchaseStatusEventV2 } from './personal-data';
import { isRfc3339, purchaseStatusEventProblems, type PurchaseStatusEventV1 } from './webhook-payload';

/**
 * The CloudEvents Kafka protocol binding, binary content mode, for every
 * topic: attributes travel as `ce_*` headers, the value is the JSON of the
 * event data (empty for a tombstone), the key is the record's subject (so
 * Kafka keeps each subject's records in order, and compaction keeps its
 * latest). Pure functions: the messaging adapter hands these fields to and
 * from kafkajs. Status events on `journey.purchase-status.v1` have a checked
 * pair of their own (`toCloudEventsKafkaMessage`, `fromCloudEventsKafkaMessage`).
 */
export const cloudEventsSpecVersion = '1.0';
export const jsonContentType = 'application/json';

/** `ce_source` of each producing service. */
export const cloudEventSources = {
  journey: '/gancho/journey',
  subscriptions: '/gancho/subscriptions',
  delivery: '/gancho/delivery',
} as const;
export const journeyEventSource = cloudEventSources.journey;

/** `ce_type` of each topic's records but the status events (whose type is the webhook event type, `purchase.<status>`). */
export const cloudEventTypes = {
  endpointState: 'subscriptions.endpoint_state',
  apiKey: 'subscriptions.api_key',
  deliveryAttempt: 'delivery.attempt',
  endpointHealth: 'delivery.endpoint_health',
  subjectKey: 'journey.subject_key',
  personalDataErasure: 'journey.personal_data_erasure',
} as const;

/**
 * The headers the subscriptions topics carried before CloudEvents (release
 * v0.1.0): `gancho-event-id` and `gancho-event-type` (the event store's type,
 * such as `EndpointCreated`). Producers still write them beside the `ce_*`
 * headers for one release, so a consumer of that release keeps working, and
 * new consumers read them from records an older producer wrote
 * (docs/subscriptions.md, "Topics").
 */
export const legacyEventHeaders = { id: 'gancho-event-id', type: 'gancho-event-type' } as const;

/** The CloudEvents attributes of one record. */
export interface CloudEventAttributes {
  /** Unique per event; consumers de-duplicate on it. */
  id: string;
  type: string;
  source: string;
  /** RFC 3339, or a Date written as such. */
  time: string | Date;
  /** The record's key: what the event is about. */
  subject: string;
  /** W3C trace context. */
  traceparent?: string;
  tracestate?: string;
}

export interface CloudEventsRecord extends CloudEventAttributes {
  /** The value's JSON; `null` is a tombstone (empty value, no content type). */
  data: unknown;
  /** For the compatibility window of the subscriptions topics: also write `legacyEventHeaders`, with this as the type. */
  legacyType?: string;
}

/** The attributes a consumer read, and from which headers. */
export interface ReadCloudEventAttributes {
  id: string;
  type: string;
  /** Absent on a record of an older producer (`legacy`). */
  source?: string;
  time?: string;
  subject?: string;
  traceparent?: string;
  tracestate?: string;
  /** `cloudevents`: from the `ce_*` headers; `legacy`: from `legacyEventHeaders` (a producer of release v0.1.0). */
  headers: 'cloudevents' | 'legacy';
}

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

/** A status event of `journey.purchase-status.v2`: the same attributes, the student sealed. */
export interface PurchaseStatusCloudEventV2 extends Omit<PurchaseStatusCloudEvent, 'data'> {
  data: PurchaseStatusEventV2;
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

function attributeProblems(attributes: CloudEventAttributes, time: string): string[] {
  const problems: string[] = [];
  for (const name of ['id', 'type', 'source', 'subject'] as const) if (attributes[name].length === 0) problems.push(`${name} is empty`);
  if (!isRfc3339(time)) problems.push(`time ${time} is not RFC 3339`);
  return problems;
}

/**
 * The binary-mode Kafka message of any record: `ce_*` headers, `content-type`
 * when there is data, the trace context, and the key as the subject. Throws
 * `InvalidCloudEventError` on an empty attribute or a time not RFC 3339.
 */
export function toCloudEventsRecord(record: CloudEventsRecord): CloudEventsKafkaMessage {
  const time = typeof record.time === 'string' ? record.time : record.time.toISOString();
  const problems = attributeProblems(record, time);
  if (problems.length > 0) throw new InvalidCloudEventError(problems);
  const headers: Record<string, string> = {
    ce_specversion: cloudEventsSpecVersion,
    ce_id: record.id,
    ce_type: record.type,
    ce_source: record.source,
    ce_time: time,
    ce_subject: record.subject,
  };
  if (record.data !== null) headers['content-type'] = jsonContentType;
  if (record.traceparent !== undefined) headers['traceparent'] = record.traceparent;
  if (record.tracestate !== undefined) headers['tracestate'] = record.tracestate;
  if (record.legacyType !== undefined) {
    headers[legacyEventHeaders.id] = record.id;
    headers[legacyEventHeaders.type] = record.legacyType;
    // v0.1.0 sent a content type on tombstones too.
    headers['content-type'] = jsonContentType;
  }
  return { key: record.subject, value: record.data === null ? '' : JSON.stringify(record.data), headers };
}

type StatusEventProblems = (data: unknown) => string[];

function consistencyProblems(type: string, purchaseId: string, data: unknown, problemsOf: StatusEventProblems = purchaseStatusEventProblems): string[] {
  const problems = problemsOf(data);
  if (problems.length > 0 || !isEventType(type)) return problems;
  const event = data as { status: string; purchase_id: string };
  if (event.status !== statusOfEventType(type)) problems.push(`data.status ${event.status} does not match type ${type}`);
  if (event.purchase_id !== purchaseId) problems.push(`data.purchase_id does not match the subject ${purchaseId}`);
  return problems;
}

/** The binary-mode Kafka message of a status event; throws `InvalidCloudEventError` on inconsistent input. */
export function toCloudEventsKafkaMessage(event: Omit<PurchaseStatusCloudEvent, 'time'> & { time: string | Date }): CloudEventsKafkaMessage {
  return toStatusMessage(event, purchaseStatusEventProblems);
}

/** The binary-mode Kafka message of a status event on `journey.purchase-status.v2`; throws `InvalidCloudEventError` on inconsistent input. */
export function toPurchaseStatusV2KafkaMessage(event: Omit<PurchaseStatusCloudEventV2, 'time'> & { time: string | Date }): CloudEventsKafkaMessage {
  return toStatusMessage(event, purchaseStatusEventV2Problems);
}

function toStatusMessage(event: Omit<PurchaseStatusCloudEvent, 'time' | 'data'> & { time: string | Date; data: unknown }, problemsOf: StatusEventProblems): CloudEventsKafkaMessage {
  const time = typeof event.time === 'string' ? event.time : event.time.toISOString();
  const problems: string[] = [];
  if (event.eventId.length === 0) problems.push('eventId is empty');
  if (!isEventType(event.type)) problems.push(`type ${String(event.type)} is not a purchase event type`);
  if (!isRfc3339(time)) problems.push(`time ${time} is not RFC 3339`);
  if (event.purchaseId.length === 0) problems.push('purchaseId is empty');
  problems.push(...consistencyProblems(event.type, event.purchaseId, event.data, problemsOf));
  if (problems.length > 0) throw new InvalidCloudEventError(problems);
  return toCloudEventsRecord({
    id: event.eventId,
    type: event.type,
    source: journeyEventSource,
    time,
    subject: event.purchaseId,
    data: event.data,
    ...(event.traceparent !== undefined ? { traceparent: event.traceparent } : {}),
    ...(event.tracestate !== undefined ? { tracestate: event.tracestate } : {}),
  });
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
  return readStatusMessage(message, purchaseStatusEventProblems) as PurchaseStatusCloudEvent;
}

/** Reads a status event of `journey.purchase-status.v2` (the student sealed), with the checks of `fromCloudEventsKafkaMessage`. */
export function fromPurchaseStatusV2KafkaMessage(message: IncomingKafkaMessage): PurchaseStatusCloudEventV2 {
  return readStatusMessage(message, purchaseStatusEventV2Problems) as PurchaseStatusCloudEventV2;
}

function readStatusMessage(message: IncomingKafkaMessage, problemsOf: StatusEventProblems): PurchaseStatusCloudEvent | PurchaseStatusCloudEventV2 {
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
  if (data !== undefined) problems.push(...consistencyProblems(type, purchaseId, data, problemsOf));
  if (problems.length > 0) throw new InvalidCloudEventError(problems);

  const event: PurchaseStatusCloudEvent | PurchaseStatusCloudEventV2 = {
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

/**
 * The CloudEvents attributes of a record of any topic, from its `ce_*`
 * headers, or, when it has none, from the headers an older producer wrote
 * (`legacyEventHeaders`). Reads headers only; what the value holds is the
 * consumer's to check. Throws `InvalidCloudEventError` when neither set is
 * complete.
 */
export function readCloudEventAttributes(message: Pick<IncomingKafkaMessage, 'headers'>): ReadCloudEventAttributes {
  const problems: string[] = [];
  const headers = headerMap(message.headers, problems);
  const text = (name: string): string | undefined => {
    const value = headers.get(name);
    return value === null || value === undefined || value.length === 0 ? undefined : value;
  };
  const trace = { ...(text('traceparent') ? { traceparent: text('traceparent') } : {}), ...(text('tracestate') ? { tracestate: text('tracestate') } : {}) };
  if (headers.has('ce_specversion')) {
    const missing = ['ce_specversion', 'ce_id', 'ce_type', 'ce_source'].filter((name) => text(name) === undefined);
    problems.push(...missing.map((name) => `header ${name} is missing, empty or given more than once`));
    const specVersion = text('ce_specversion');
    if (specVersion && specVersion !== cloudEventsSpecVersion) problems.push(`ce_specversion ${specVersion} is not ${cloudEventsSpecVersion}`);
    const time = text('ce_time');
    if (time !== undefined && !isRfc3339(time)) problems.push(`ce_time ${time} is not RFC 3339`);
    if (problems.length > 0) throw new InvalidCloudEventError(problems);
    const subject = text('ce_subject');
    return {
      id: text('ce_id') as string,
      type: text('ce_type') as string,
      source: text('ce_source') as string,
      ...(time !== undefined ? { time } : {}),
      ...(subject !== undefined ? { subject } : {}),
      ...trace,
      headers: 'cloudevents',
    };
  }
  const id = text(legacyEventHeaders.id);
  const type = text(legacyEventHeaders.type);
  if (id === undefined || type === undefined || problems.length > 0) {
    throw new InvalidCloudEventError([...problems, `neither ce_* headers nor ${legacyEventHeaders.id} and ${legacyEventHeaders.type}`]);
  }
  return { id, type, ...trace, headers: 'legacy' };
}

/** Names a record's event for a log line (`event <id> (<type>)`), whichever headers carry it; never throws. */
export function describeRecordEvent(message: Pick<IncomingKafkaMessage, 'headers'>): string {
  try {
    const event = readCloudEventAttributes(message);
    return `event ${event.id} (${event.type}${event.headers === 'legacy' ? ', headers of an older producer' : ''})`;
  } catch (error) {
    return error instanceof InvalidCloudEventError ? `no event headers (${error.problems.join('; ')})` : 'unreadable event headers';
  }
}
