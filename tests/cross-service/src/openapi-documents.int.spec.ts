import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventTypes, operationalEventTypes, webhookEventTypes } from '@gancho/contracts';
import { buildOpenApiDocument, httpStatusOf, type OpenApiInfo } from '@gancho/service-kit';
import { DeliveryModule } from '../../../apps/delivery/src/delivery.module';
import { deliveryOpenApi } from '../../../apps/delivery/src/openapi';
import { JourneyModule } from '../../../apps/journey/src/journey.module';
import { journeyOpenApi } from '../../../apps/journey/src/openapi';
import { subscriptionsOpenApi } from '../../../apps/subscriptions/src/openapi';
import { SubscriptionsModule } from '../../../apps/subscriptions/src/subscriptions.module';

// The three services' OpenAPI 3.1 documents, built from their modules as each service serves them at /docs-json:
// - each is a valid OpenAPI 3.1 document (@apidevtools/swagger-parser), every $ref resolves;
// - every operation answers its errors as problem+json with the stable codes (and their statuses) of the platform;
//   operations with a query declare its parameters; POST /endpoints requires event_types; subscriptions carries the
//   41 webhooks; POST /purchases has a realistic example;
// - docs/openapi/<service>.json and the console's generated types (openapi-typescript) are those of today's code:
//   the test fails when either is stale. `OPENAPI_WRITE=1` (npm run openapi:generate) writes them instead.

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const write = process.env['OPENAPI_WRITE'] === '1';
const run = promisify(execFile);

const services: [string, () => DynamicModule, OpenApiInfo][] = [
  ['journey', () => JourneyModule.register(), journeyOpenApi],
  ['subscriptions', () => SubscriptionsModule.register(), subscriptionsOpenApi],
  ['delivery', () => DeliveryModule.register(), deliveryOpenApi],
];
/** The documents whose types the console uses (it talks to these two). */
const consoleClients = ['subscriptions', 'delivery'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const documents = new Map<string, Json>();

async function documentOf(module: DynamicModule, info: OpenApiInfo): Promise<Json> {
  // Preview mode: the routes and their metadata, without connecting to anything.
  const app: INestApplication = await NestFactory.create(module, { preview: true, logger: false, abortOnError: false });
  try {
    return JSON.parse(JSON.stringify(buildOpenApiDocument(app, info))) as Json;
  } finally {
    await app.close();
  }
}

function operationsOf(document: Json): [string, Json][] {
  return Object.entries(document['paths'] as Json).flatMap(([route, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => [`${method.toUpperCase()} ${route}`, operation as Json] as [string, Json]),
  );
}

/**
 * The document as @apidevtools/swagger-parser sees it: validated (OpenAPI 3.1 schema, every $ref resolved) and, with
 * `dereference`, every $ref replaced. In a child process: the parser is an ES module, which Jest cannot load.
 */
async function swaggerParser(verb: 'validate' | 'dereference', document: Json): Promise<Json> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'openapi-'));
  try {
    const file = path.join(scratch, 'document.json');
    writeFileSync(file, JSON.stringify(document));
    const script = `import P from '@apidevtools/swagger-parser'; process.stdout.write(JSON.stringify(await P.${verb}(process.argv[1])));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, file], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as Json;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Compares a generated file with the committed one (or writes it under OPENAPI_WRITE=1). */
function expectCommitted(relative: string, text: string): void {
  const file = path.join(repoRoot, relative);
  if (write) return writeFileSync(file, text);
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  expect({ file: relative, upToDate: committed === text }).toEqual({ file: relative, upToDate: true });
}

describe('the OpenAPI documents', () => {
  beforeAll(async () => {
    // Each module reads its configuration when it is registered; nothing here connects to it.
    const saved = { ...process.env };
    Object.assign(process.env, {
      DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://openapi@127.0.0.1:1/openapi',
      JOURNEY_PLATFORM_TOKENS: 'plt_openapi_document_only_0000000000',
      SUBSCRIPTIONS_ADMIN_TOKENS: 'adm_openapi_document_only_0000000000',
      SECRETS_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      PERSONAL_DATA_MASTER_KEYS: `m1:${Buffer.alloc(32, 8).toString('base64')}`,
      PERSONAL_DATA_INDEX_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    try {
      for (const [name, module, info] of services) documents.set(name, await documentOf(module(), info));
    } finally {
      process.env = saved;
    }
  });

  it.each(services.map(([name]) => name))('%s: a valid OpenAPI 3.1 document', async (name) => {
    const document = documents.get(name) as Json;
    expect(document['openapi']).toBe('3.1.0');
    expect((await swaggerParser('validate', document))['openapi']).toBe('3.1.0');
  });

  it.each(services.map(([name]) => name))('%s: every operation documents its errors as problem+json with stable codes', (name) => {
    const document = documents.get(name) as Json;
    const missing: string[] = [];
    for (const [label, operation] of operationsOf(document)) {
      const errors = Object.entries(operation['responses'] as Json).filter(([status]) => /^[45]\d\d$/.test(status));
      if (!errors.some(([status]) => status === '500')) missing.push(`${label}: no 500`);
      if ((operation['security'] ?? []).length > 0 && !errors.some(([status]) => status === '401')) missing.push(`${label}: no 401`);
      for (const [status, response] of errors) {
        const content = response['content']?.['application/problem+json'];
        const codes: string[] = content?.schema?.allOf?.[1]?.properties?.code?.enum ?? [];
        if (codes.length === 0) missing.push(`${label} ${status}: no codes`);
        for (const code of codes) if (String(httpStatusOf(code)) !== status) missing.push(`${label} ${status}: ${code} is ${httpStatusOf(code)}`);
        for (const code of codes) {
          const reference = String(content.examples?.[code]?.$ref ?? '');
          if (document['components']['examples'][reference.replace('#/components/examples/', '')]?.value?.code !== code) missing.push(`${label} ${status}: no example of ${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares the query parameters, the required fields, the conflicts and a realistic purchase', () => {
    const journey = documents.get('journey') as Json;
    const subscriptions = documents.get('subscriptions') as Json;
    const delivery = documents.get('delivery') as Json;
    const names = (operation: Json, where: string) => (operation['parameters'] as Json[]).filter((p) => p['in'] === where).map((p) => p['name']);
    expect(names(journey['paths']['/purchases'].get, 'query')).toEqual(expect.arrayContaining(['partner_id', 'status', 'limit', 'cursor']));
    expect(names(delivery['paths']['/messages'].get, 'query')).toEqual(expect.arrayContaining(['endpoint_id', 'event_type', 'status', 'since', 'until', 'cursor', 'limit']));
    expect(names(subscriptions['paths']['/endpoints'].get, 'query')).toEqual(expect.arrayContaining(['limit', 'cursor']));
    const createEndpoint = subscriptions['paths']['/endpoints'].post.requestBody;
    expect(createEndpoint.required).toBe(true);
    expect(createEndpoint.content['application/json'].schema.required).toEqual(expect.arrayContaining(['event_types']));
    expect(Object.keys(createEndpoint.content['application/json'].schema.properties)).toContain('url');
    const conflict = journey['paths']['/purchases/{id}/sign-contract'].post.responses['409'];
    expect(conflict.content['application/problem+json'].schema.allOf[1].properties.code.enum).toEqual(expect.arrayContaining(['ILLEGAL_TRANSITION', 'STREAM_VERSION_CONFLICT']));
    expect(journey['paths']['/purchases/{id}'].get.responses['404'].content['application/problem+json'].examples.PURCHASE_NOT_FOUND).toBeTruthy();
    const example = journey['paths']['/purchases'].post.requestBody.content['application/json'].examples.course.value;
    expect(example.course).toMatchObject({ currency: 'BRL' });
    expect(example.course.price_cents).toBeGreaterThan(0);
    expect(example.course.price_cents).toBeLessThanOrEqual(100_000_000);
  });

  it('subscriptions carries the webhooks: one per event type, its body the catalog’s schema, by reference', async () => {
    const subscriptions = documents.get('subscriptions') as Json;
    expect(Object.keys(subscriptions['webhooks']).sort()).toEqual([...webhookEventTypes, ...operationalEventTypes].sort());
    // The 41 statuses, purchase.personal_data_erased and the operational types.
    expect(eventTypes).toHaveLength(41);
    expect(webhookEventTypes).toHaveLength(42);
    const dereferenced = await swaggerParser('dereference', subscriptions);
    const paid = dereferenced['webhooks']['purchase.paid'].post.requestBody.content['application/json'];
    expect(paid.schema.properties.type).toEqual({ const: 'purchase.paid' });
    expect(paid.example.type).toBe('purchase.paid');
  });

  it('docs/openapi and the console’s generated types are today’s', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'openapi-'));
    try {
      for (const [name] of services) {
        const text = `${JSON.stringify(documents.get(name), null, 2)}\n`;
        expectCommitted(`docs/openapi/${name}.json`, text);
        if (!consoleClients.includes(name)) continue;
        const input = path.join(scratch, `${name}.json`);
        writeFileSync(input, text);
        const cli = path.join(repoRoot, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
        const { stdout } = await run(process.execPath, [cli, input], { cwd: scratch, maxBuffer: 32 * 1024 * 1024 });
        const header = `// Generated from docs/openapi/${name}.json by openapi-typescript; do not edit: \`npm run openapi:generate\`.\n`;
        expectCommitted(`apps/console/src/client/api-types/${name}.ts`, header + stdout);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
