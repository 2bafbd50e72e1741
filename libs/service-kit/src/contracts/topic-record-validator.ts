import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { topicContract, topicContracts, type TopicContract, type TopicName } from '@gancho/contracts';

/** A record as read from (or about to be written to) a topic. */
export interface TopicRecord {
  key: string | null;
  headers: Readonly<Record<string, string>>;
  /** null or empty: a tombstone. */
  value: Buffer | string | null;
}

interface CompiledContract {
  contract: TopicContract;
  key: ValidateFunction;
  headers: ValidateFunction;
  value: ValidateFunction;
}

function problemsOf(validate: ValidateFunction, where: string): string[] {
  return (validate.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message ?? 'is invalid'}`);
}

/**
 * Checks records against the topic contracts of `@gancho/contracts` (JSON
 * Schema 2020-12, formats on): the key, the CloudEvents headers, the value,
 * and that key, `ce_subject` and the value's key field agree. Producers' tests
 * and consumers use the same checks. Problems never quote values (a value may
 * hold personal data or sealed secrets): only paths and rules.
 */
export class TopicRecordValidator {
  private readonly compiled = new Map<TopicName, CompiledContract>();

  constructor() {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const contract of topicContracts) {
      this.compiled.set(contract.topic, {
        contract,
        key: ajv.compile(contract.key.schema),
        headers: ajv.compile(contract.headers),
        value: ajv.compile(contract.valueSchema),
      });
    }
  }

  /** What is wrong with a parsed value of `topic` (empty when it is one). */
  valueProblems(topic: TopicName, value: unknown): string[] {
    const { value: validate } = this.of(topic);
    return validate(value) ? [] : problemsOf(validate, 'value');
  }

  /** What is wrong with a whole record of `topic`: key, headers and value (empty when nothing is). */
  recordProblems(topic: TopicName, record: TopicRecord): string[] {
    const { contract, key, headers } = this.of(topic);
    const problems: string[] = [];
    if (!key(record.key)) problems.push(...problemsOf(key, 'key'));
    if (!headers(record.headers)) problems.push(...problemsOf(headers, 'headers'));
    if (record.key !== null && record.headers['ce_subject'] !== undefined && record.headers['ce_subject'] !== record.key) {
      problems.push('headers/ce_subject does not equal the key');
    }
    const text = record.value === null ? '' : record.value.toString();
    if (text.length === 0) {
      if (!contract.tombstones.allowed) problems.push('value is empty, and the topic has no tombstones');
      return problems;
    }
    if (record.headers['content-type'] === undefined) problems.push('headers/content-type is missing on a record with a value');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push('value is not JSON');
      return problems;
    }
    problems.push(...this.valueProblems(topic, value));
    const keyField = (value as Record<string, unknown> | null)?.[contract.key.valueField];
    if (typeof value === 'object' && value !== null && keyField !== record.key) problems.push(`value/${contract.key.valueField} does not equal the key`);
    return problems;
  }

  private of(topic: TopicName): CompiledContract {
    const compiled = this.compiled.get(topic);
    if (!compiled) throw new TypeError(`no contract for topic ${topicContract(topic).topic}`);
    return compiled;
  }
}

let shared: TopicRecordValidator | undefined;

/** One validator per process: compiling the schemas takes a moment. */
export function topicRecordValidator(): TopicRecordValidator {
  return (shared ??= new TopicRecordValidator());
}
