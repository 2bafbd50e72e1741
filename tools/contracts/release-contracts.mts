// Where released contracts live and how a build's contracts are read: the
// record script reads a release's build (a git worktree of its commit), the
// gate test reads today's, the same way.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase } from '@gancho/testing';
import { repoRoot } from '../infra/paths.mts';
import { freePort } from '../infra/ports.mts';
import { newPlatformSecrets, serviceEnv, type PlatformOptions } from '../platform/platform.mts';
import { serviceNames, startService, stopService, type RunningService, type ServiceName } from '../platform/service-processes.mts';
import { topicSnapshotOf, type AcknowledgedBreak, type ContractSet, type Json, type TopicContractSnapshot } from './compatibility.mts';

export const releasesDir = path.join(repoRoot, 'libs', 'contracts', 'releases');
export const releasesFile = path.join(releasesDir, 'releases.json');

export interface ReleaseEntry {
  version: string;
  commit: string;
}

export function readReleases(): ReleaseEntry[] {
  if (!existsSync(releasesFile)) return [];
  return (JSON.parse(readFileSync(releasesFile, 'utf8')) as { releases: ReleaseEntry[] }).releases;
}

/** The release the gate compares with: the last one recorded. */
export function lastRelease(): ReleaseEntry {
  const releases = readReleases();
  const last = releases.at(-1);
  if (!last) throw new Error(`${path.relative(repoRoot, releasesFile)} names no release`);
  return last;
}

export const acknowledgedBreaksFile = path.join(releasesDir, 'acknowledged-breaks.json');

export function readAcknowledgedBreaks(): AcknowledgedBreak[] {
  return existsSync(acknowledgedBreaksFile) ? (JSON.parse(readFileSync(acknowledgedBreaksFile, 'utf8')) as { acknowledged: AcknowledgedBreak[] }).acknowledged : [];
}

export const snapshotDir = (version: string) => path.join(releasesDir, version);

/** `https://…/webhooks/purchase.logged/v1.json` → `purchase.logged.v1.json`. */
export function webhookFileName(schemaId: string): string {
  const match = /\/([^/]+)\/v(\d+)\.json$/.exec(schemaId);
  if (!match) throw new Error(`not a webhook schema id: ${schemaId}`);
  return `${match[1]}.v${match[2]}.json`;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Json;
const jsonFilesIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

/** A recorded release's contracts, from its snapshot folder. */
export function readSnapshot(version: string): ContractSet {
  const dir = snapshotDir(version);
  if (!existsSync(dir)) throw new Error(`no snapshot of release ${version} in ${path.relative(repoRoot, dir)}`);
  const topics: Record<string, TopicContractSnapshot> = {};
  for (const file of jsonFilesIn(path.join(dir, 'topics'))) {
    const contract = topicSnapshotOf(readJson(path.join(dir, 'topics', file)) as { [key: string]: Json });
    topics[contract.topic] = contract;
  }
  const webhooks: Record<string, Json> = {};
  for (const file of jsonFilesIn(path.join(dir, 'webhooks'))) {
    const schema = readJson(path.join(dir, 'webhooks', file)) as { $id: string };
    webhooks[schema.$id] = schema as unknown as Json;
  }
  const openapi: Record<string, Json> = {};
  for (const file of jsonFilesIn(path.join(dir, 'openapi'))) openapi[file.replace(/\.json$/, '')] = readJson(path.join(dir, 'openapi', file));
  return { topics, webhooks, openapi };
}

/**
 * Every webhook payload schema of a build, by `$id`, read from its built
 * libs/contracts (dist) in a Node of its own, so a release's code answers
 * for itself.
 */
export function webhookSchemasOfBuild(root: string): Record<string, Json> {
  const script = `const c = require(${JSON.stringify(path.join(root, 'libs/contracts/dist/index.js'))});
    const out = {}; for (const type of c.eventTypes) { const s = c.webhookPayloadSchema(type); out[s.$id] = s; }
    if (c.personalDataErasedWebhookSchema) { const s = c.personalDataErasedWebhookSchema(); out[s.$id] = s; }
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as Record<string, Json>;
}

/** The topic registry of a build (`topicContracts`), or undefined for a build from before it existed. */
export function topicContractsOfBuild(root: string): ({ topic: string } & { [key: string]: Json })[] | undefined {
  const script = `const c = require(${JSON.stringify(path.join(root, 'libs/contracts/dist/index.js'))});
    process.stdout.write(JSON.stringify(c.topicContracts === undefined ? null : c.topicContracts));`;
  const value = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as ({ topic: string } & { [key: string]: Json })[] | null;
  return value ?? undefined;
}

/**
 * The OpenAPI document each service of a build serves at /docs-json: the
 * three services started from that build's dist as real processes, on a
 * fresh database of the test server (the PostgreSQL event log; no Kafka
 * needed to answer a document), then stopped.
 */
export async function openApiDocumentsOfBuild(root: string): Promise<Record<ServiceName, Json>> {
  const database = await createTestDatabase('openapi_documents');
  const running: RunningService[] = [];
  try {
    const options: PlatformOptions = {
      databaseUrl: database.url,
      ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
      secrets: newPlatformSecrets(),
      allowedEndpointHosts: [],
    };
    const documents = {} as Record<ServiceName, Json>;
    for (const name of ['subscriptions', 'journey', 'delivery'] as const) {
      const service = await startService({ name, port: options.ports[name], root, env: serviceEnv(name, options) });
      running.push(service);
      const response = await fetch(`${service.url}/docs-json`);
      if (response.status !== 200) throw new Error(`${name} answered ${response.status} on /docs-json`);
      documents[name] = (await response.json()) as Json;
    }
    return Object.fromEntries(serviceNames.map((name) => [name, documents[name]])) as Record<ServiceName, Json>;
  } finally {
    for (const service of running.reverse()) await stopService(service);
    await database.drop();
  }
}
