// A PostgreSQL server and a Kafka broker of a test's own (own data folder
// under .infra/reliability/, own loopback ports), so a test may crash them
// without touching the shared test infrastructure other suites use.
import { rm } from 'node:fs/promises';
import path from 'node:path';
// These reuse the infra and platform scripts of tools/ rather than copies of
// them; they are scripts, not a library, so the boundary rule does not know them.
/* eslint-disable @nx/enforce-module-boundaries */
import { killKafka, startKafka, stopKafka } from '../infra/kafka.mts';
import { infraDir, kafkaServer, postgresServer, repoRoot, type KafkaServer, type PostgresServer } from '../infra/paths.mts';
import { freePort } from '../infra/ports.mts';
import { run } from '../infra/process.mts';

export interface PrivateInfra {
  dir: string;
  postgres: PostgresServer;
  kafka: KafkaServer;
  databaseUrl: string;
  kafkaBrokers: string;
  /** SIGKILLs the broker's JVM: a crash, not a shutdown. */
  killKafka(): Promise<void>;
  startKafka(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every backend is dropped, no checkpoint, crash recovery on the next start. */
  stopPostgresImmediately(): Promise<void>;
  startPostgres(): Promise<void>;
  /** Stops both and deletes their files. */
  destroy(): Promise<void>;
}

/** Runs postgres-control.mts in a child Node process; resolves with what it printed. */
async function postgresControl(command: 'start' | 'stop' | 'crash', server: PostgresServer): Promise<string> {
  const script = path.join(repoRoot, 'tools', 'reliability', 'postgres-control.mts');
  return (await run(process.execPath, ['--disable-warning=ExperimentalWarning', script, command, server.dir, String(server.port)])).trim();
}

export async function startPrivateInfra(name: string): Promise<PrivateInfra> {
  const dir = path.join(infraDir, 'reliability', name);
  await rm(dir, { recursive: true, force: true });
  const postgres = postgresServer(path.join(dir, 'postgres'), await freePort());
  const kafka = kafkaServer(path.join(dir, 'kafka'), await freePort(), await freePort());
  const [databaseUrl, broker] = await Promise.all([postgresControl('start', postgres), startKafka(kafka)]);
  return {
    dir,
    postgres,
    kafka,
    databaseUrl: databaseUrl.split('\n').pop() as string,
    kafkaBrokers: broker.brokers,
    killKafka: () => killKafka(kafka),
    startKafka: async () => void (await startKafka(kafka)),
    stopPostgresImmediately: async () => void (await postgresControl('crash', postgres)),
    startPostgres: async () => void (await postgresControl('start', postgres)),
    destroy: async () => {
      await Promise.all([stopKafka({}, kafka).catch(() => killKafka(kafka)), postgresControl('stop', postgres)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
