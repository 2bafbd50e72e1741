import { topicContract, Topics } from '@gancho/contracts';
import { TopicRecordValidator } from './topic-record-validator';

describe('TopicRecordValidator', () => {
  const validator = new TopicRecordValidator();
  const example = topicContract(Topics.endpoints).examples[0]!;
  const record = { key: example.key, headers: example.headers, value: JSON.stringify(example.value) };

  it("accepts each contract's examples", () => {
    for (const topic of Object.values(Topics)) {
      for (const e of topicContract(topic).examples) {
        expect(validator.recordProblems(topic, { key: e.key, headers: e.headers, value: e.value === null ? null : JSON.stringify(e.value) })).toEqual([]);
      }
    }
  });

  it('names what is wrong with the key, the headers and the value, without quoting values', () => {
    const { ce_type: _type, ...headers } = record.headers;
    const value = { ...(example.value as object), destination: { type: 'sms', phone: '+5511999999999' } };
    const problems = validator.recordProblems(Topics.endpoints, { key: 'ep_other', headers, value: JSON.stringify(value) });
    expect(problems).toEqual(
      expect.arrayContaining([
        "headers must have required property 'ce_type'",
        'headers/ce_subject does not equal the key',
        'value/endpoint_id does not equal the key',
        'value/destination must match exactly one schema in oneOf',
      ]),
    );
    expect(problems.join(' ')).not.toContain('5511');
  });

  it('takes tombstones only on compacted topics, and wants a content type with a value', () => {
    expect(validator.recordProblems(Topics.endpoints, { ...record, value: null })).toEqual([]);
    const attempt = topicContract(Topics.deliveryAttempts).examples[0]!;
    expect(validator.recordProblems(Topics.deliveryAttempts, { key: attempt.key, headers: attempt.headers, value: '' })).toEqual(['value is empty, and the topic has no tombstones']);
    const { 'content-type': _contentType, ...noContentType } = record.headers;
    expect(validator.recordProblems(Topics.endpoints, { ...record, headers: noContentType })).toEqual(['headers/content-type is missing on a record with a value']);
    expect(validator.recordProblems(Topics.endpoints, { ...record, value: '{' })).toEqual(['value is not JSON']);
  });
});
