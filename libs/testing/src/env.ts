/** Reads a variable the test command provides (see tools/test/load-infra-env.cjs). */
export function requireEnv(name: 'DATABASE_URL' | 'KAFKA_BROKERS'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with \`npm test\`, or \`npm run infra:up\` first`);
  }
  return value;
}

export function kafkaBrokers(): string[] {
  return requireEnv('KAFKA_BROKERS').split(',');
}
