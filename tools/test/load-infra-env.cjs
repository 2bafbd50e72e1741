// Tests reach the real PostgreSQL and Kafka named by DATABASE_URL and
// KAFKA_BROKERS; when they are not set, the ones `npm run infra:up` wrote.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const envFile = path.join(__dirname, '..', '..', '.infra', 'env');
try {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = line.match(/^([A-Z_]+)=(.*)$/);
    if (match && process.env[match[1]] === undefined) process.env[match[1]] = match[2];
  }
} catch {
  // No .infra/env: integration tests will say which variable is missing.
}
