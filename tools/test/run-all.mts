// `npm test`: the one test command. Brings up PostgreSQL and Kafka (unless
// DATABASE_URL and KAFKA_BROKERS are given), runs lint, typecheck and every
// project's tests through Nx, stops what it started, and ends with the line
// `N passed, N failed` summed over all suites. Exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { infraDown } from '../infra/down.mts';
import { infraUp } from '../infra/up.mts';
import { repoRoot } from '../infra/paths.mts';

const reportsDir = path.join(repoRoot, 'reports', 'jest');
const nxBin = path.join(repoRoot, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const prettierBin = path.join(repoRoot, 'node_modules', 'prettier', 'bin', 'prettier.cjs');

/** The formatter's check (the same file set as `npm run format:check`): lists what is not formatted. */
function formatCheck(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prettierBin, '--check', '--log-level=warn', '**/*.{ts,mts,cts,js,cjs,tsx,json}'], { cwd: repoRoot, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

function nx(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [nxBin, ...args, '--output-style=stream'], { cwd: repoRoot, env, stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

type Summary = { project: string; passed: number; failed: number; skipped: number };

async function readSummaries(): Promise<Summary[]> {
  const files = await readdir(reportsDir).catch(() => [] as string[]);
  return Promise.all(files.filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(path.join(reportsDir, f), 'utf8')) as Summary));
}

async function projectsWithTests(env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nxBin, 'show', 'projects', '--with-target', 'test', '--json'], { cwd: repoRoot, env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error('nx show projects failed'))));
  });
}

const began = Date.now();
const { env: infraEnv, started } = await infraUp();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...infraEnv,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_SKIP_NX_CACHE: process.env.CI ? 'true' : process.env.NX_SKIP_NX_CACHE,
  // kafkajs on Node 24: see libs/messaging/src/kafka/kafka-transport.ts.
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--disable-warning=TimeoutNegativeWarning'].filter(Boolean).join(' '),
};

let exitCode = 0;
let summaries: Summary[] = [];
try {
  await rm(reportsDir, { recursive: true, force: true });
  const formatted = await formatCheck(env);
  if (formatted !== 0) console.error('prettier --check: the files above are not formatted (npm run format)');
  const checks = (await nx(['run-many', '-t', 'lint', 'typecheck', '--parallel=2'], env)) || formatted;
  // Tests talk to one PostgreSQL and one broker on a two-core box: one project
  // at a time, each with its own Jest workers.
  const tests = await nx(['run-many', '-t', 'test', '--parallel=1', '--nxBail=false'], env);
  summaries = await readSummaries();
  const expected = await projectsWithTests(env);
  const silent = expected.filter((p) => !summaries.some((s) => s.project === p));
  for (const project of silent) console.error(`no test report from ${project}: its test run did not complete`);
  exitCode = checks !== 0 || tests !== 0 || silent.length > 0 ? 1 : 0;
} finally {
  await infraDown({ postgres: started.postgres, kafka: started.kafka });
}

const passed = summaries.reduce((n, s) => n + s.passed, 0);
const failed = summaries.reduce((n, s) => n + s.failed, 0);
if (failed > 0) exitCode = 1;
console.log(`\ntests by project: ${summaries.map((s) => `${s.project} ${s.passed}/${s.passed + s.failed}`).join(', ')}`);
console.log(`test command ${exitCode === 0 ? 'succeeded' : 'FAILED'} in ${((Date.now() - began) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);
