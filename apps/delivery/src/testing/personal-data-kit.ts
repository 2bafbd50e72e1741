import { randomBytes, randomUUID } from 'node:crypto';
import {
  cloudEventSources,
  cloudEventTypes,
  eventTypeOf,
  examplePayload,
  subjectDataContext,
  subjectKeyTransportContext,
  toCloudEventsRecord,
  toPurchaseStatusV2KafkaMessage,
  type PurchaseStatus,
  type PurchaseStatusEventV2,
  type StudentPersonalData,
  type SubjectKeyRecordV1,
} from '@gancho/contracts';
import type { EventTransport } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { secretBox, type TestTopics } from './delivery-test-kit';

/** A student as journey makes one: a subject id, a key, and the personal fields sealed under it. */
export class TestSubject {
  readonly subjectId = `sub_${randomBytes(16).toString('hex')}`;
  readonly keyId = `sk_${randomBytes(8).toString('hex')}`;
  private readonly key = randomBytes(32);
  private readonly box = new SecretBox([{ id: this.keyId, key: this.key }]);

  constructor(readonly student: StudentPersonalData) {}

  sealed(): string {
    return this.box.seal(JSON.stringify(this.student), subjectDataContext(this.subjectId));
  }

  /** The key record journey publishes, sealed under the shared transport key. */
  keyRecord(): SubjectKeyRecordV1 {
    return { subject_id: this.subjectId, key_id: this.keyId, sealed_key: secretBox.seal(this.key.toString('base64'), subjectKeyTransportContext(this.subjectId)) };
  }
}

/** Publishes what journey's LGPD release does: v2 status events, subject keys and their tombstones. */
export class JourneyStandIn {
  constructor(
    private readonly transport: EventTransport,
    private readonly topics: TestTopics,
  ) {}

  async publishKey(subject: TestSubject): Promise<void> {
    const record = subject.keyRecord();
    await this.transport.publish(this.topics.SUBJECT_KEYS_TOPIC, [
      toCloudEventsRecord({ id: `${subject.subjectId}:key`, type: cloudEventTypes.subjectKey, source: cloudEventSources.journey, time: new Date(), subject: subject.subjectId, data: record }),
    ]);
  }

  async publishKeyTombstone(subject: TestSubject): Promise<void> {
    await this.transport.publish(this.topics.SUBJECT_KEYS_TOPIC, [
      toCloudEventsRecord({ id: `${subject.subjectId}:erased`, type: cloudEventTypes.subjectKey, source: cloudEventSources.journey, time: new Date(), subject: subject.subjectId, data: null }),
    ]);
  }

  /** A v2 status event of the subject; returns its event id and value. */
  async publishStatus(partnerId: string, status: PurchaseStatus, subject: TestSubject, overrides: Partial<PurchaseStatusEventV2> = {}): Promise<{ eventId: string; data: PurchaseStatusEventV2 }> {
    const type = eventTypeOf(status);
    const data: PurchaseStatusEventV2 = { ...examplePayload(type).data, partner_id: partnerId, student: { subject_id: subject.subjectId, sealed: subject.sealed() }, ...overrides };
    const eventId = randomUUID();
    await this.transport.publish(this.topics.PURCHASE_STATUS_V2_TOPIC, [toPurchaseStatusV2KafkaMessage({ eventId, type, time: data.occurred_at, purchaseId: data.purchase_id, data })]);
    return { eventId, data };
  }
}
