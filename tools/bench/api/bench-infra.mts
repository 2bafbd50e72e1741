// The API-path scenarios' own PostgreSQL server and Kafka broker (own data
// folders under .infra/bench/, own loopback ports), started through
// tools/infra like the test infrastructure. Their own, because what is
// measured is the whole platform: every process of the server and the broker
// counts (walwriter, checkpointer, autovacuum, the JVM), which a server shared
// with other work would blur, and the server loads pg_stat_statements (it
// needs shared_preload_libraries, i.e. a restart) to count statements.
import { readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
/* eslint-disable @nx/enforce-module-boundaries -- scripts of tools/, not a library */
import { killKafka, startKafka, stopKafka } from '../../infra/kafka.mts';
import { infraDir, kafkaServer, postgresServer, postgresUrl, type KafkaServer, type PostgresServer } from '../../infra/paths.mts';
import { startPostgres, stopPostgres } from '../../infra/postgres.mts';
import { freePort } from '../../infra/ports.mts';
import { readPid } from '../../infra/process.mts';
/* eslint-enable @nx/enforce-module-boundaries */

export interface BenchInfra {
  postgres: PostgresServer;
  kafka: KafkaServer;
  /** The server's maintenance database (create and drop the scenarios' databases there). */
  adminUrl: string;
  kafkaBrokers: string;
  /** The postmaster and every process it forked (backends, walwriter, checkpointer…). */
  postgresPids(): number[];
  /** The broker's JVM. */
  kafkaPids(): number[];
  stop(): Promise<void>;
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export async function startBenchInfra(say: (line: string) => void): Promise<BenchInfra> {
  const dir = path.join(infraDir, 'bench');
  await rm(dir, { recursive: true, force: true });
  const postgres = postgresServer(path.join(dir, 'postgres'), await freePort());
  const kafka = kafkaServer(path.join(dir, 'kafka'), await freePort(), await freePort());
  const began = Date.now();
  const [, broker] = await Promise.all([
    (async () => {
      await startPostgres(postgres);
      // pg_stat_statements is loaded at server start only.
      const client = new pg.Client({ connectionString: postgresUrl('postgres', postgres) });
      await client.connect();
      await client.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
      await client.query(`ALTER SYSTEM SET pg_stat_statements.max = 10000`);
      await client.end();
      await stopPostgres(postgres);
      await startPostgres(postgres);
    })(),
    startKafka(kafka),
  ]);
  say(`bench: the API path's own PostgreSQL (with pg_stat_statements) on ${postgres.port} and Kafka on ${kafka.port} started in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  const kafkaPid = await readPid(kafka.pidFile);
  return {
    postgres,
    kafka,
    adminUrl: postgresUrl('postgres', postgres),
    kafkaBrokers: broker.brokers,
    postgresPids: () => {
      const postmaster = Number(readFileSync(path.join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && parentOf(entry) === postmaster);
      return [postmaster, ...children.map(Number)];
    },
    kafkaPids: () => (kafkaPid ? [kafkaPid] : []),
    stop: async () => {
      await Promise.all([stopKafka({}, kafka).catch(() => killKafka(kafka)), stopPostgres(postgres)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
