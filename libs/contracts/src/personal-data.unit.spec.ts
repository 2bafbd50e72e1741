import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { fromPurchaseStatusV2KafkaMessage, InvalidCloudEventError, toPurchaseStatusV2KafkaMessage } from './cloudevents-kafka';
import { personalDataErasureProblems, purchaseStatusEventV2Problems, subjectKeyRecordProblems, type PurchaseStatusEventV2 } from './personal-data';
import { topicConfigOf, topicContract } from './topic-contracts';
import { Topics } from './topics';
import { examplePayload, purchaseStatusEventProblems } from './webhook-payload';

const subjectId = `sub_${'ab'.repeat(16)}`;
const sealed = 'v1.sk_0123456789abcdef.c2VhbGVkLXN0dWRlbnQ';

function v2Event(): PurchaseStatusEventV2 {
  return { ...examplePayload('purchase.approved').data, student: { subject_id: subjectId, sealed } };
}

function validatorOf(topic: (typeof Topics)[keyof typeof Topics]) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(topicContract(topic).valueSchema);
}

describe('personal data on the topics', () => {
  it('carries the v2 student as a subject id and a sealed value, never name or e-mail, in the checker and the schema alike', () => {
    const schema = validatorOf(Topics.purchaseStatusV2);
    const erased = { ...v2Event(), student: { subject_id: subjectId, sealed: null } };
    const plaintext = { ...v2Event(), student: { subject_id: subjectId, sealed, name: 'Maria Silva', email: 'maria@example.com' } };
    const v1Student = { ...v2Event(), student: { name: 'Maria Silva', email: 'maria@example.com' } };
    const notSealed = { ...v2Event(), student: { subject_id: subjectId, sealed: '{"name":"Maria Silva"}' } };
    const badSubject = { ...v2Event(), student: { subject_id: 'maria@example.com', sealed } };
    for (const [value, ok] of [
      [v2Event(), true],
      [erased, true],
      [plaintext, false],
      [v1Student, false],
      [notSealed, false],
      [badSubject, false],
    ] as const) {
      expect({ value, checker: purchaseStatusEventV2Problems(value).length === 0, schema: schema(value) }).toEqual({ value, checker: ok, schema: ok });
    }
    // The v1 checker keeps refusing a sealed student.
    expect(purchaseStatusEventProblems(v2Event())).toContain('data.student.name: is required');
  });

  it('round-trips a v2 status event through the CloudEvents Kafka binding, checking the data', () => {
    const data = v2Event();
    const message = toPurchaseStatusV2KafkaMessage({ eventId: 'evt-1', type: 'purchase.approved', time: data.occurred_at, purchaseId: data.purchase_id, data });
    expect(message.value).not.toContain('Maria');
    expect(fromPurchaseStatusV2KafkaMessage(message).data).toEqual(data);
    const plain = { ...message, value: JSON.stringify(examplePayload('purchase.approved').data) };
    expect(() => fromPurchaseStatusV2KafkaMessage(plain)).toThrow(InvalidCloudEventError);
    expect(() => toPurchaseStatusV2KafkaMessage({ eventId: 'evt-1', type: 'purchase.denied', time: data.occurred_at, purchaseId: data.purchase_id, data })).toThrow('does not match type purchase.denied');
  });

  it('checks subject keys and erasures like their schemas', () => {
    const keys = validatorOf(Topics.subjectKeys);
    const erasures = validatorOf(Topics.personalDataErasures);
    const key = { subject_id: subjectId, key_id: 'sk_0123456789abcdef', sealed_key: 'v1.k1.c2VhbGVkLWtleQ' };
    const erasure = { erasure_id: `era_${'c'.repeat(32)}`, subject_id: subjectId, purchases: [{ purchase_id: 'pur_1', partner_id: 'ptn_1' }], erased_at: '2026-12-02T03:00:00.000Z' };
    const cases: [unknown, boolean, (v: unknown) => string[], (v: unknown) => boolean][] = [
      [key, true, subjectKeyRecordProblems, keys],
      [{ ...key, sealed_key: Buffer.alloc(32).toString('base64') }, false, subjectKeyRecordProblems, keys],
      [{ ...key, key_id: 'k1' }, false, subjectKeyRecordProblems, keys],
      [{ ...key, email: 'maria@example.com' }, false, subjectKeyRecordProblems, keys],
      [erasure, true, personalDataErasureProblems, erasures],
      [{ ...erasure, purchases: [] }, true, personalDataErasureProblems, erasures],
      [{ ...erasure, purchases: [{ purchase_id: 'pur_1', partner_id: 'ptn_1', email: 'maria@example.com' }] }, false, personalDataErasureProblems, erasures],
      [{ ...erasure, erased_at: 'yesterday' }, false, personalDataErasureProblems, erasures],
      [{ ...erasure, purchases: 'pur_1' }, false, personalDataErasureProblems, erasures],
    ];
    for (const [value, ok, checker, schema] of cases) expect({ value, checker: checker(value).length === 0, schema: schema(value) }).toEqual({ value, checker: ok, schema: ok });
  });

  it('names personal data only where it is, sealed', () => {
    expect(topicContract(Topics.purchaseStatus).personalData).toEqual(['student.name', 'student.email']);
    expect(topicContract(Topics.purchaseStatusV2).personalData).toEqual(['student.sealed']);
    expect(topicContract(Topics.subjectKeys).personalData).toEqual([]);
    expect(topicContract(Topics.personalDataErasures).personalData).toEqual([]);
  });

  it('creates the subject-keys topic compacted, with replaced keys leaving the broker within hours', () => {
    expect(topicConfigOf(topicContract(Topics.subjectKeys))).toEqual({
      'cleanup.policy': 'compact',
      'delete.retention.ms': '604800000',
      'segment.ms': '3600000',
      'max.compaction.lag.ms': '3600000',
    });
    expect(topicConfigOf(topicContract(Topics.personalDataErasures))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': String(30 * 24 * 3600 * 1000) });
    expect(topicConfigOf(topicContract(Topics.purchaseStatusV2))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '604800000' });
  });
});
