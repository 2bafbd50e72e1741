import { z } from 'zod';
import { durationMs, parseServiceConfig, ServiceConfigError, tokenList } from './service-config';

const valid = { DATABASE_URL: 'postgres://u:secret-password@db:5432/gancho', KAFKA_BROKERS: 'k1:9092,k2:9092' };

describe('service configuration', () => {
  it('applies defaults and coerces numbers', () => {
    expect(parseServiceConfig({ ...valid, DATABASE_POOL_SIZE: '5' }, { PORT: 3001 })).toEqual({
      ...valid,
      PORT: 3001,
      HOST: '0.0.0.0',
      DATABASE_POOL_SIZE: 5,
      TRANSPORT_SCHEMA: 'gancho_transport',
      KAFKA_SESSION_TIMEOUT_MS: 30_000,
      LOG_LEVEL: 'info',
    });
  });

  it('takes a pino LOG_LEVEL and refuses others', () => {
    expect(parseServiceConfig({ ...valid, LOG_LEVEL: 'debug' }, { PORT: 1 }).LOG_LEVEL).toBe('debug');
    expect(() => parseServiceConfig({ ...valid, LOG_LEVEL: 'chatty' }, { PORT: 1 })).toThrow(/LOG_LEVEL/);
  });

  it('lets the environment override the default port', () => {
    expect(parseServiceConfig({ ...valid, PORT: '8080' }, { PORT: 3001 }).PORT).toBe(8080);
  });

  it('names every missing or malformed key without echoing values', () => {
    let thrown: unknown;
    try {
      parseServiceConfig({ DATABASE_URL: 'mysql://u:secret-password@db/x', KAFKA_BROKERS: 'no-port' }, { PORT: 1 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServiceConfigError);
    const message = (thrown as Error).message;
    expect(message).toContain('DATABASE_URL must be a postgres:// URL');
    expect(message).toContain('KAFKA_BROKERS must be host:port');
    expect(message).not.toContain('secret-password');
  });

  it('says what is required when keys are absent', () => {
    expect(() => parseServiceConfig({}, { PORT: 1 })).toThrow(/DATABASE_URL is required/);
  });

  it('leaves KAFKA_BROKERS unset for the PostgreSQL transport', () => {
    expect(parseServiceConfig({ DATABASE_URL: valid.DATABASE_URL }, { PORT: 1 }).KAFKA_BROKERS).toBeUndefined();
  });
});

describe('service-specific configuration', () => {
  const extra = z.object({ PLATFORM_TOKENS: tokenList('PLATFORM_TOKENS'), TIMEOUT_MS: durationMs(5000) });

  it('validates the service keys with the common ones', () => {
    const config = parseServiceConfig({ ...valid, PLATFORM_TOKENS: 'a'.repeat(24) + ', ' + 'b'.repeat(30) }, { PORT: 1 }, extra);
    expect(config.PLATFORM_TOKENS).toEqual(['a'.repeat(24), 'b'.repeat(30)]);
    expect(config.TIMEOUT_MS).toBe(5000);
  });

  it('refuses short tokens without echoing them', () => {
    expect(() => parseServiceConfig({ ...valid, PLATFORM_TOKENS: 'short-secret' }, { PORT: 1 }, extra)).toThrow(/PLATFORM_TOKENS must hold tokens of 24\+ characters/);
    expect(() => parseServiceConfig({ ...valid, PLATFORM_TOKENS: 'short-secret' }, { PORT: 1 }, extra)).not.toThrow(/short-secret/);
  });
});
