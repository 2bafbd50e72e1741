// `npm run infra:up`: starts PostgreSQL and Kafka (unless DATABASE_URL /
// KAFKA_BROKERS name existing ones) and writes .infra/env. Safe to run twice.
import { roundTrip, startKafka } from './kafka.mts';
import { startPostgres } from './postgres.mts';
import { writeEnvFile, type InfraEnv } from './env-file.mts';
import { envFile, kafka as testBroker } from './paths.mts';

export interface InfraUp {
  env: InfraEnv;
  /** What this call started (and so what a matching `down` should stop). */
  started: { postgres: boolean; kafka: boolean };
}

export async function infraUp(): Promise<InfraUp> {
  const givenDatabase = process.env.DATABASE_URL;
  const givenBrokers = process.env.KAFKA_BROKERS;
  const [postgres, kafka] = await Promise.all([
    givenDatabase ? { url: givenDatabase, started: false } : startPostgres(),
    givenBrokers ? roundTrip(givenBrokers).then(() => ({ brokers: givenBrokers, started: false })) : startKafka(),
  ]);
  const logDirs = givenBrokers ? process.env.KAFKA_LOG_DIRS : testBroker.dataDir;
  const env: InfraEnv = { DATABASE_URL: postgres.url, KAFKA_BROKERS: kafka.brokers, ...(logDirs ? { KAFKA_LOG_DIRS: logDirs } : {}) };
  await writeEnvFile(env);
  return { env, started: { postgres: postgres.started, kafka: kafka.started } };
}

if (import.meta.main) {
  const began = Date.now();
  const { env, started } = await infraUp();
  const state = (name: string, wasStarted: boolean) => `${name} ${wasStarted ? 'started' : 'already running'}`;
  console.log(
    `infra up in ${((Date.now() - began) / 1000).toFixed(1)} s (${state('PostgreSQL', started.postgres)}, ${state('Kafka', started.kafka)})\n` +
      `  DATABASE_URL=${env.DATABASE_URL}\n  KAFKA_BROKERS=${env.KAFKA_BROKERS}\n  written to ${envFile}`,
  );
}
