// Records a release's contracts so later trees are held to them:
//
//   node tools/contracts/record-release.mts --version=0.1.0 --commit=0644c4b
//
// builds that commit in a git worktree of its own (the bench's baseline
// build, cached under .infra/bench-baseline/), then writes
// libs/contracts/releases/<version>/ from that build's own code: every
// webhook payload schema (webhooks/), the OpenAPI document each service
// serves (openapi/, from the three services started as processes), and the
// topic registry (topics/) when the build has one. Adds the release to
// releases.json. Needs the test PostgreSQL (DATABASE_URL, or .infra/env).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
// eslint-disable-next-line @nx/enforce-module-boundaries -- a script of tools/, reusing the bench's baseline build
import { prepareBaseline } from '../bench/api/baseline.mts';
import { envFile, repoRoot } from '../infra/paths.mts';

const { values } = parseArgs({ options: { version: { type: 'string' }, commit: { type: 'string' } } });
if (!values.version || !/^\d+\.\d+\.\d+$/.test(values.version) || !values.commit) {
  throw new Error('usage: record-release.mts --version=<major.minor.patch> --commit=<commit>');
}
const version = values.version;

if (!process.env['DATABASE_URL']) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match && match[1] === 'DATABASE_URL') process.env['DATABASE_URL'] = match[2];
  }
}
// The services to read documents from are the release's; the test database helper is today's, built.
execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run', '@gancho/testing:build', '--output-style=static'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
const { openApiDocumentsOfBuild, readReleases, releasesFile, snapshotDir, topicContractsOfBuild, webhookFileName, webhookSchemasOfBuild } = await import('./release-contracts.mts');

const build = await prepareBaseline(values.commit, (line) => console.log(line.replace(/^bench: /, 'record: ')));
const dir = snapshotDir(version);
const write = (file: string, value: unknown) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

const webhooks = webhookSchemasOfBuild(build.root);
rmSync(path.join(dir, 'webhooks'), { recursive: true, force: true });
for (const [id, schema] of Object.entries(webhooks)) write(path.join(dir, 'webhooks', webhookFileName(id)), schema);
console.log(`record: ${Object.keys(webhooks).length} webhook payload schemas`);

const documents = await openApiDocumentsOfBuild(build.root);
rmSync(path.join(dir, 'openapi'), { recursive: true, force: true });
for (const [service, document] of Object.entries(documents)) write(path.join(dir, 'openapi', `${service}.json`), document);
console.log(`record: OpenAPI documents of ${Object.keys(documents).join(', ')}`);

const topics = topicContractsOfBuild(build.root);
if (topics) {
  rmSync(path.join(dir, 'topics'), { recursive: true, force: true });
  for (const contract of topics) write(path.join(dir, 'topics', `${contract.topic}.json`), contract);
  console.log(`record: ${topics.length} topic contracts from the build's registry`);
} else {
  // Releases from before the registry: their topics/ folder is written by hand from that commit's code (its README says how).
  const recorded = existsSync(path.join(dir, 'topics')) ? readdirSync(path.join(dir, 'topics')).length : 0;
  if (recorded === 0) console.log(`record: ${build.commit.slice(0, 7)} has no topic registry, and ${path.relative(repoRoot, dir)}/topics/ has no hand-written contracts yet: write them from that commit's code`);
  else console.log(`record: ${build.commit.slice(0, 7)} has no topic registry; keeping the ${recorded} hand-written topic contracts`);
}

const releases = readReleases().filter((r) => r.version !== version);
releases.push({ version, commit: build.commit });
write(releasesFile, { releases });
console.log(`record: release ${version} = ${build.commit} in ${path.relative(repoRoot, releasesFile)}`);
