import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { eventTypes } from './event-types';
import { topicConfigOf, topicContract, topicContracts, topicValueSchemaId } from './topic-contracts';
import { Topics } from './topics';
import { examplePayload, statusEventStudentV1Schema, webhookPayloadSchema, type JsonSchema } from './webhook-payload';

function compiler() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

describe('topic contracts', () => {
  it('cover every topic once, versioned as the name says', () => {
    expect(topicContracts.map((c) => c.topic).sort()).toEqual(Object.values(Topics).sort());
    for (const contract of topicContracts) {
      expect(contract.topic.endsWith(`.v${contract.version}`)).toBe(true);
      expect(contract.valueSchema['$id']).toBe(topicValueSchemaId(contract.topic));
      expect(contract.valueSchema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(contract.cloudEvents.dataSchema).toBe(contract.valueSchema['$id']);
      expect(contract.consumers.length).toBeGreaterThan(0);
      expect(contract.examples.length).toBeGreaterThan(0);
    }
  });

  it('give examples that validate: key, CloudEvents headers and value', () => {
    const ajv = compiler();
    for (const contract of topicContracts) {
      const key = ajv.compile(contract.key.schema);
      const headers = ajv.compile(contract.headers);
      const value = ajv.compile(contract.valueSchema);
      for (const example of contract.examples) {
        expect({ topic: contract.topic, example: example.name, key: key(example.key), headers: headers(example.headers) ? [] : headers.errors }).toEqual({
          topic: contract.topic,
          example: example.name,
          key: true,
          headers: [],
        });
        expect(example.headers['ce_subject']).toBe(example.key);
        expect(new RegExp(contract.cloudEvents.typePattern).test(example.headers['ce_type'] as string)).toBe(true);
        if (example.value === null) {
          expect(contract.tombstones.allowed).toBe(true);
          continue;
        }
        expect(value(example.value) ? [] : value.errors).toEqual([]);
        expect((example.value as Record<string, unknown>)[contract.key.valueField]).toBe(example.key);
      }
    }
  });

  it("make the status event's value exactly the webhook's data, the student in clear (both fields required), for every event type", () => {
    const schema = topicContract(Topics.purchaseStatus).valueSchema;
    const branches = schema['oneOf'] as JsonSchema[];
    expect(branches).toHaveLength(eventTypes.length);
    eventTypes.forEach((type, i) => {
      const data = (webhookPayloadSchema(type)['properties'] as Record<string, JsonSchema>)['data'] as JsonSchema;
      const { title: _title, description: _description, ...branch } = branches[i] as JsonSchema;
      const { description: _dataDescription, ...dataRules } = data;
      expect(branch).toEqual({ ...dataRules, properties: { ...(dataRules['properties'] as Record<string, JsonSchema>), student: statusEventStudentV1Schema() } });
    });
    const validate = compiler().compile(schema);
    for (const type of eventTypes) expect(validate(examplePayload(type).data)).toBe(true);
    expect(validate({ ...examplePayload('purchase.approved').data, phase: 'open' })).toBe(false);
    expect(validate({ ...examplePayload('purchase.approved').data, coupon: 'X' })).toBe(false);
  });

  it('reject what a v1 consumer cannot fully read: an unknown destination type, an unknown field, an unknown reason', () => {
    const ajv = compiler();
    const endpoints = topicContract(Topics.endpoints);
    const state = endpoints.examples[0]?.value as Record<string, unknown>;
    const validateState = ajv.compile(endpoints.valueSchema);
    expect(validateState(state)).toBe(true);
    expect(validateState({ ...state, destination: { type: 'sms', phone: '+5511999999999' } })).toBe(false);
    expect(validateState({ ...state, priority: 'high' })).toBe(false);
    const { destination: _destination, sealed_headers: _sealed, ...beforeDestinations } = state;
    expect(validateState(beforeDestinations)).toBe(true);

    const health = topicContract(Topics.endpointHealth);
    const validateHealth = ajv.compile(health.valueSchema);
    expect(validateHealth({ ...(health.examples[0]?.value as object), reason: 'maintenance' })).toBe(false);
  });

  it('say how to create each topic: compacted tables, retained logs', () => {
    expect(topicConfigOf(topicContract(Topics.endpoints))).toEqual({ 'cleanup.policy': 'compact', 'delete.retention.ms': '604800000' });
    expect(topicConfigOf(topicContract(Topics.apiKeys))['cleanup.policy']).toBe('compact');
    expect(topicConfigOf(topicContract(Topics.purchaseStatus))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '604800000' });
    expect(topicConfigOf(topicContract(Topics.deliveryAttempts), 3_600_000)).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '3600000' });
    const envs = topicContracts.map((c) => c.retention.env);
    expect(new Set(envs).size).toBe(envs.length);
  });

  it('keep personal data on the broker for a bounded time: at most 30 days, or compacted away within a day of its tombstone', () => {
    const day = 24 * 60 * 60 * 1000;
    const bounded = (c: (typeof topicContracts)[number]) =>
      c.compaction.cleanupPolicy === 'delete'
        ? c.retention.retentionMs !== null && c.retention.retentionMs > 0 && c.retention.retentionMs <= 30 * day
        : (c.compaction.segmentMs ?? Infinity) + (c.compaction.maxCompactionLagMs ?? Infinity) <= day;
    const personal = topicContracts.filter((c) => c.personalData.length > 0 || c.topic === Topics.subjectKeys);
    expect(personal.map((c) => c.topic).sort()).toEqual([Topics.purchaseStatus, Topics.purchaseStatusV2, Topics.subjectKeys].sort());
    expect(personal.filter((c) => !bounded(c)).map((c) => c.topic)).toEqual([]);
  });
});
