// Where the local infrastructure lives and which loopback ports it uses.
// Everything is under <repo>/.infra so `git clean` or `rm -rf .infra` resets it.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraDir = path.join(repoRoot, '.infra');
export const envFile = path.join(infraDir, 'env');

export const postgres = {
  dir: path.join(infraDir, 'postgres'),
  dataDir: path.join(infraDir, 'postgres', 'data'),
  logFile: path.join(infraDir, 'postgres', 'postgres.log'),
  port: Number(process.env.GANCHO_PG_PORT ?? 15432),
  user: 'gancho',
  password: 'gancho',
  database: 'gancho',
};

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

export function postgresUrl(database = postgres.database): string {
  return `postgres://${postgres.user}:${postgres.password}@127.0.0.1:${postgres.port}/${database}`;
}

export function kafkaBrokers(): string {
  return `127.0.0.1:${kafka.port}`;
}
