// `npm run infra:up`: starts PostgreSQL and Kafka (unless DATABASE_URL /
// KAFKA_BROKERS name existing ones) and writes .infra/env. Safe to run twice.
import { startKafka, roundTrip } from './kafka.mts';
import { startPostgres } from './postgres.mts';
import { writeEnvFile } from './env-file.mts';
import { envFile } from './paths.mts';

export async function infraUp(): Promise<{ DATABASE_URL: string; KAFKA_BROKERS: string }> {
  const [DATABASE_URL, KAFKA_BROKERS] = await Promise.all([
    process.env.DATABASE_URL ?? startPostgres(),
    process.env.KAFKA_BROKERS
      ? roundTrip(process.env.KAFKA_BROKERS).then(() => process.env.KAFKA_BROKERS as string)
      : startKafka(),
  ]);
  await writeEnvFile({ DATABASE_URL, KAFKA_BROKERS });
  return { DATABASE_URL, KAFKA_BROKERS };
}

if (import.meta.main) {
  const started = Date.now();
  const env = await infraUp();
  process.stdout.write(
    `infra up in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
      `  DATABASE_URL=${env.DATABASE_URL}\n  KAFKA_BROKERS=${env.KAFKA_BROKERS}\n  written to ${envFile}\n`,
  );
}
