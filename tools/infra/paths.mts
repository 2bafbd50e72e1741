// Where the local infrastructure lives and which loopback ports it uses.
// Everything is under <repo>/.infra so `git clean` or `rm -rf .infra` resets it.
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The workspace root: the nearest folder with nx.json above the running
 * script (or the working directory). Found by walking up rather than from
 * `import.meta`, so these modules also load under Jest's CommonJS transform.
 */
function findRepoRoot(): string {
  for (const start of [process.argv[1] ? path.dirname(path.resolve(process.argv[1])) : undefined, process.cwd()]) {
    for (let dir = start; dir;) {
      if (existsSync(path.join(dir, 'nx.json'))) return dir;
      const parent = path.dirname(dir);
      dir = parent === dir ? undefined : parent;
    }
  }
  throw new Error('cannot find the Gancho workspace (no nx.json above this script or the working directory)');
}

export const repoRoot = findRepoRoot();
export const infraDir = path.join(repoRoot, '.infra');
export const envFile = path.join(infraDir, 'env');

export interface PostgresServer {
  dir: string;
  dataDir: string;
  logFile: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** A PostgreSQL server whose files live under `dir` (the test server, or `npm start`'s under .gancho/). */
export function postgresServer(dir: string, port: number): PostgresServer {
  return { dir, dataDir: path.join(dir, 'data'), logFile: path.join(dir, 'postgres.log'), port, user: 'gancho', password: 'gancho', database: 'gancho' };
}

export const postgres = postgresServer(path.join(infraDir, 'postgres'), Number(process.env.GANCHO_PG_PORT ?? 15432));

export interface KafkaServer {
  dir: string;
  libsDir: string;
  dataDir: string;
  configFile: string;
  log4jFile: string;
  logFile: string;
  pidFile: string;
  pom: string;
  port: number;
  controllerPort: number;
  heap: string;
}

/**
 * A single-node Kafka broker whose files live under `dir` (the test broker, or
 * a private one in a reliability test). The jars are shared with the test
 * broker's folder so they are fetched once per machine.
 */
export function kafkaServer(dir: string, port: number, controllerPort: number): KafkaServer {
  return {
    dir,
    libsDir: path.join(infraDir, 'kafka', 'libs'),
    dataDir: path.join(dir, 'data'),
    configFile: path.join(dir, 'server.properties'),
    log4jFile: path.join(dir, 'log4j.properties'),
    logFile: path.join(dir, 'kafka.log'),
    pidFile: path.join(dir, 'kafka.pid'),
    pom: path.join(repoRoot, 'tools', 'kafka', 'pom.xml'),
    port,
    controllerPort,
    heap: process.env.GANCHO_KAFKA_HEAP ?? '512m',
  };
}

export const kafka = kafkaServer(path.join(infraDir, 'kafka'), Number(process.env.GANCHO_KAFKA_PORT ?? 19092), Number(process.env.GANCHO_KAFKA_CONTROLLER_PORT ?? 19093));

export function postgresUrl(database = postgres.database, server: PostgresServer = postgres): string {
  return `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/${database}`;
}

export function kafkaBrokers(server: KafkaServer = kafka): string {
  return `127.0.0.1:${server.port}`;
}
