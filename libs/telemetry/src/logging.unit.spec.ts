import { Writable } from 'node:stream';
import { createLogger, scrubSecrets, secretValuesFromEnv } from './logging';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('logs without secrets', () => {
  const apiKey = 'gk_live_Qm9vLWJvby1ib28tYm9vLWJvbw';
  const signingSecret = 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
  const encryptionKey = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWZhYmM=';

  it('writes one JSON object per line with level, time, service and message', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'delivery', level: 'debug', destination }).debug({ context: 'Dispatcher' }, 'sent');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'debug', service: 'delivery', context: 'Dispatcher', msg: 'sent', time: expect.any(String) });
  });

  it('redacts credential, secret and payload fields at every depth we use', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 's', level: 'trace', destination });
    logger.trace(
      {
        headers: { authorization: `Bearer ${apiKey}` },
        request: { headers: { authorization: 'Basic dXNlcjpwYXNz' }, body: { student: { email: 'ana@example.com' } } },
        endpoint: { signing_secrets: [signingSecret], secret: signingSecret },
        payload: '{"student":{"email":"ana@example.com"}}',
        token: 'some-admin-token-of-24-characters',
      },
      'request',
    );
    const line = lines.join('\n');
    for (const leaked of [apiKey, signingSecret, 'ana@example.com', 'dXNlcjpwYXNz', 'some-admin-token']) expect(line).not.toContain(leaked);
    expect(JSON.parse(lines[0]!).headers.authorization).toBe('[REDACTED]');
  });

  it('scrubs secrets hidden in free text, and known secret values of the environment', () => {
    const { lines, destination } = capture();
    const knownSecrets = secretValuesFromEnv({ SECRETS_ENCRYPTION_KEY: encryptionKey, PORT: '3000', JOURNEY_PLATFORM_TOKENS: 'platform-token-of-24-characters-1,platform-token-of-24-characters-2' });
    const logger = createLogger({ service: 's', level: 'info', destination, knownSecrets });
    logger.info(`key ${apiKey} secret ${signingSecret} auth "Bearer abc.def" url postgres://gancho:hunter22@db/x`);
    logger.info(`config echoed: ${encryptionKey} and platform-token-of-24-characters-2 and the bare key ${encryptionKey.split(':')[1]}`);
    const text = lines.join('\n');
    for (const leaked of [apiKey, signingSecret, 'abc.def', 'hunter22', encryptionKey, encryptionKey.split(':')[1]!, 'platform-token-of-24-characters-2']) {
      expect(text).not.toContain(leaked);
    }
    expect(text).toContain('gk_live_[REDACTED]');
    expect(text).toContain('whsec_[REDACTED]');
    expect(secretValuesFromEnv({ PORT: '3000', DATABASE_POOL_SIZE: '10', API_KEYS_TOPIC: 'subscriptions.api-keys.v1', SECRET_ROTATION_OVERLAP_MS: '86400000' })).toEqual([]);
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('delivered msg_123 to ep_abc in 12 ms')).toBe('delivered msg_123 to ep_abc in 12 ms');
  });

  it('drops lines below the level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 's', level: 'warn', destination });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });
});
