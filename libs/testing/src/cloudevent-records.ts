import { CloudEvent, Kafka } from 'cloudevents';

/** A Kafka record as a consumer reads it back (kafkajs gives Buffers; the messaging port, strings). */
export interface RecordReadBack {
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string>;
}

export interface ExpectedCloudEvent {
  source: string;
  type: string;
}

/**
 * The record as the public `cloudevents` SDK reads it in binary mode, after
 * checking what every Gancho topic promises: the `ce_*` attributes the spec
 * requires, valid; `ce_subject` the record's key; RFC 3339 `ce_time`; the
 * stated source and type; a JSON content type when there is a value. The
 * SDK's Kafka reader refuses a tombstone (no value), so a tombstone's
 * attributes go through the SDK's event constructor, which validates them
 * against the same schema. Throws on any breach; returns the event.
 */
export function readBackCloudEvent(record: RecordReadBack, expected: ExpectedCloudEvent): CloudEvent<unknown> {
  const value = record.value.toString();
  const headers = record.headers;
  let event: CloudEvent<unknown>;
  if (value.length === 0) {
    const attributes = Object.fromEntries(
      Object.entries(headers)
        .filter(([name]) => name.startsWith('ce_'))
        .map(([name, v]) => [name.slice(3), v]),
    );
    event = new CloudEvent(attributes as never, true);
  } else {
    if (!headers['content-type']?.startsWith('application/json')) throw new Error(`content-type is ${headers['content-type']}, not application/json`);
    const read = Kafka.toEvent({ key: record.key ?? undefined, value, headers, body: value } as never);
    if (Array.isArray(read)) throw new Error('a batch, not one event');
    event = read as CloudEvent<unknown>;
  }
  const problems: string[] = [];
  if (!event.validate()) problems.push('not a valid CloudEvent');
  if (headers['ce_specversion'] !== '1.0') problems.push(`ce_specversion ${headers['ce_specversion']}`);
  if (event.source !== expected.source) problems.push(`ce_source ${event.source}, not ${expected.source}`);
  if (event.type !== expected.type) problems.push(`ce_type ${event.type}, not ${expected.type}`);
  if (event.subject === undefined || event.subject !== record.key) problems.push(`ce_subject ${event.subject} is not the key ${record.key}`);
  const time = headers['ce_time'];
  if (time === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(time)) problems.push(`ce_time ${time} is not RFC 3339`);
  if (problems.length > 0) throw new Error(`record ${record.key}: ${problems.join('; ')}`);
  return event;
}
