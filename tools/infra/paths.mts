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
    for (let dir = start; dir; ) {
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

export const kafka = {
  dir: path.join(infraDir, 'kafka'),
  libsDir: path.join(infraDir, 'kafka', 'libs'),
  dataDir: path.join(infraDir, 'kafka', 'data'),
  configFile: path.join(infraDir, 'kafka', 'server.properties'),
  log4jFile: path.join(infraDir, 'kafka', 'log4j.properties'),
  logFile: path.join(infraDir, 'kafka', 'kafka.log'),
  pidFile: path.join(infraDir, 'kafka', 'kafka.pid'),
  pom: path.join(repoRoot, 'tools', 'kafka', 'pom.xml'),
  port: Number(process.env.GANCHO_KAFKA_PORT ?? 19092),
  controllerPort: Number(process.env.GANCHO_KAFKA_CONTROLLER_PORT ?? 19093),
  heap: process.env.GANCHO_KAFKA_HEAP ?? '512m',
};

export function postgresUrl(database = postgres.database, server: PostgresServer = postgres): string {
  return `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/${database}`;
}

export function kafkaBrokers(): string {
  return `127.0.0.1:${kafka.port}`;
}
