import { connect } from 'node:net';
import { Body, Controller, Get, Module, Param, Patch, Post, Query, Req, Res, UseGuards, type DynamicModule } from '@nestjs/common';
import { ApiBearerAuth, ApiBody } from '@nestjs/swagger';
import { createTestDatabase, requireEnv, startTestService, type TestDatabase, type TestService } from '@gancho/testing';
import type { Request, Response } from 'express';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { createServiceApp } from '../create-service-app';
import { ServiceCoreModule } from '../service-core.module';
import { BearerTokenGuard } from './bearer-token.guard';
import { IdempotencyService } from './idempotency';
import { openApiSchema } from './openapi';
import { ZodBody } from './zod-body';

class CreateNotes1700000000000 implements MigrationInterface {
  name = 'CreateNotes1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE notes (id bigserial PRIMARY KEY, text text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notes');
  }
}

const noteSchema = z.strictObject({
  text: z.string().min(1).max(100),
  priority: z.number().int().min(1).max(5).optional(),
});

class IllegalNoteError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(readonly currentStatus: string) {
    super(`cannot add a note in status ${currentStatus}`);
  }
}

let failuresBeforeSuccess = 0;
/** Thrown to roll the probe's transaction back when its key was taken meanwhile. */
const keyTaken = new Error('idempotency key taken');

@Controller('notes')
@UseGuards(new BearerTokenGuard(() => ['probe-token', 'next-probe-token'], 'probe'))
@ApiBearerAuth('platform')
class NotesController {
  constructor(
    private readonly idempotency: IdempotencyService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Post()
  @ApiBody({ schema: openApiSchema(noteSchema) })
  async create(@Body(new ZodBody(noteSchema)) note: z.infer<typeof noteSchema>, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.idempotency.respond<{ id: string; text: string }>('probe', req, res, 201, (claim) =>
      // The probe's own unit of work: the note and the key's claim commit together, or neither.
      this.dataSource
        .transaction(async (manager) => {
          const [row] = await manager.query('INSERT INTO notes (text) VALUES ($1) RETURNING id', [note.text]);
          if (note.text === 'refuse') throw new IllegalNoteError('closed');
          if (note.text === 'crash') throw new Error('database password is hunter2');
          if (note.text === 'flaky' && failuresBeforeSuccess-- > 0) throw new Error('transient');
          if (note.text === 'slow') await new Promise((r) => setTimeout(r, 300));
          const body = { id: row.id, text: note.text };
          if (claim && (await manager.query(claim(body).sql, claim(body).parameters)).length === 0) throw keyTaken;
          return body;
        })
        .catch((error: unknown) => {
          if (error === keyTaken) return undefined;
          throw error;
        }),
    );
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body(new ZodBody(noteSchema.partial())) note: Partial<z.infer<typeof noteSchema>>): Promise<unknown> {
    const rows = await this.dataSource.query('UPDATE notes SET text = coalesce($2, text) WHERE id::text = $1 RETURNING id, text', [id, note.text ?? null]);
    return rows[0] ?? {};
  }

  @Get(':id')
  async read(@Param('id') id: string, @Query('q') q: string | undefined): Promise<unknown> {
    const rows = await this.dataSource.query('SELECT id, text FROM notes WHERE id::text = $1 OR text = $2', [id, q ?? '']);
    return { items: rows };
  }
}

@Module({ controllers: [NotesController] })
class NotesModule {}

const probeApp = (): DynamicModule => ({
  module: NotesModule,
  imports: [ServiceCoreModule.forRoot({ service: 'edge_probe', defaultPort: 0, migrations: [CreateNotes1700000000000] })],
});

// Scenarios (the HTTP edge every service shares), over real HTTP and PostgreSQL:
// - bad input of every kind gets problem+json with a stable code, and writes nothing;
// - bearer tokens are required and compared;
// - coded domain errors map through the one status table; unknown errors reveal nothing;
// - Idempotency-Key: replay, reuse with another body, concurrency, refusals replayed, failures retryable;
// - the OpenAPI document describes the route with the zod schema.
describe('HTTP edge: problem+json, validation, bearer tokens, idempotency, OpenAPI', () => {
  let database: TestDatabase;
  let service: TestService;
  const auth = { authorization: 'Bearer probe-token', 'content-type': 'application/json' };

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/notes`, { method: 'POST', headers: { ...auth, ...headers }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  const countNotes = async () => Number((await service.app.get(IdempotencyService)['dataSource'].query('SELECT count(*) AS n FROM notes'))[0].n);

  beforeAll(async () => {
    database = await createTestDatabase('http_edge');
    service = await startTestService(() => createServiceApp(probeApp(), { logger: false, bodyLimit: '2kb', openApi: { title: 'probe', description: 'probe', bearerSchemes: ['platform'] } }), {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    });
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function expectProblem(response: globalThis.Response, status: number, code: string): Promise<any> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await response.json();
    expect(body).toMatchObject({ status, code, type: expect.stringContaining('/problems/'), title: expect.any(String) });
    return body;
  }

  it('refuses malformed JSON, oversize bodies and other media types', async () => {
    await expectProblem(await post('{"text": "oops'), 400, 'MALFORMED_JSON');
    await expectProblem(await post({ text: 'x'.repeat(5000) }), 413, 'PAYLOAD_TOO_LARGE');
    await expectProblem(await post('text=hello', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await countNotes()).toBe(0);
  });

  it('names unknown fields and wrong types', async () => {
    const unknown = await expectProblem(await post({ text: 'hi', colour: 'blue' }), 400, 'VALIDATION_FAILED');
    expect(unknown.errors).toEqual([{ path: '(body)', message: 'unknown field(s): colour' }]);
    const wrongType = await expectProblem(await post({ text: 42, priority: 9 }), 400, 'VALIDATION_FAILED');
    expect(wrongType.errors.map((e: { path: string }) => e.path).sort()).toEqual(['priority', 'text']);
    await expectProblem(await post([1, 2]), 400, 'VALIDATION_FAILED');
    expect(await countNotes()).toBe(0);
  });

  const patch = (id: string, body: string | Buffer, headers: Record<string, string> = {}) => fetch(`${service.url}/notes/${id}`, { method: 'PATCH', headers: { ...auth, ...headers }, body });
  const bom = (json: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);

  it('refuses text PostgreSQL cannot store, in any field, field name, query parameter or path segment, naming it', async () => {
    const cases: [string, string][] = [
      ['{"text":"a\\ud800b"}', 'text'],
      ['{"text":"a\\udc00"}', 'text'],
      ['{"text":"a\\u0000b"}', 'text'],
      ['{"text":"ok","meta":{"tags":["fine","\\udfff"]}}', 'meta.tags.1'],
      ['{"text":"ok","meta":{"a\\u0000":1}}', 'meta'],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await post(body), 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual([{ path, message: expect.stringMatching(/U\+0000|lone UTF-16 surrogate/) }]);
    }
    // A well-formed pair (an emoji) is text like any other.
    expect((await post('{"text":"\\ud83d\\ude00"}')).status).toBe(201);
    const before = await countNotes();
    const get = (path: string) => fetch(`${service.url}${path}`, { headers: auth });
    for (const [query, name] of [
      ['q=%00', 'q'],
      ['q=%FF', 'q'],
      ['q=ok&next=%ED%A0%80', 'next'],
      ['%00=1', '%00'],
    ]) {
      const problem = await expectProblem(await get(`/notes/1?${query}`), 400, 'VALIDATION_FAILED');
      expect(problem).toMatchObject({ detail: 'The query is invalid.', errors: [{ path: name }] });
    }
    for (const segment of ['%00', 'a%FFb']) {
      expect(await expectProblem(await get(`/notes/${segment}`), 400, 'VALIDATION_FAILED')).toMatchObject({ detail: 'The path is invalid.', errors: [{ path: '(path)' }] });
    }
    expect((await patch('1', '{"text":"a\\ud800"}')).status).toBe(400);
    expect(await countNotes()).toBe(before);
  });

  it('takes bodies as UTF-8 JSON only, by the same rule for every method', async () => {
    const before = await countNotes();
    // A byte order mark, bytes that are not UTF-8, another charset, another media type: refused on POST and PATCH alike.
    await expectProblem(await post(bom('{"text":"bom"}')), 400, 'MALFORMED_JSON');
    await expectProblem(await patch('1', bom('{"text":"bom"}')), 400, 'MALFORMED_JSON');
    const notUtf8 = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]);
    expect((await expectProblem(await post(notUtf8), 400, 'MALFORMED_JSON')).detail).toBe('The request body is not valid UTF-8.');
    await expectProblem(await patch('1', notUtf8), 400, 'MALFORMED_JSON');
    for (const charset of ['utf-16', 'utf-16le', 'iso-8859-1']) {
      const body = Buffer.from('{"text":"x"}', charset === 'iso-8859-1' ? 'latin1' : 'utf16le');
      await expectProblem(await post(body, { 'content-type': `application/json; charset=${charset}` }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectProblem(await patch('1', body, { 'content-type': `application/json; charset=${charset}` }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    for (const type of ['application/merge-patch+json', 'application/vnd.api+json']) {
      await expectProblem(await post('{"text":"x"}', { 'content-type': type }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectProblem(await patch('1', '{"text":"x"}', { 'content-type': type }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await countNotes()).toBe(before);
    expect((await post('{"text":"utf-8 é"}', { 'content-type': 'application/json; charset=UTF-8' })).status).toBe(201);
  });

  /** One raw HTTP/1.1 exchange: what the server answered, and whether the connection ended cleanly or was reset. */
  function rawExchange(request: string): Promise<{ response: string; ending: 'end' | string }> {
    return new Promise((resolve) => {
      const url = new URL(service.url);
      const socket = connect(Number(url.port), url.hostname);
      let response = '';
      socket.on('data', (chunk) => (response += chunk.toString()));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve({ response, ending: error.code ?? error.message }));
      socket.on('end', () => resolve({ response, ending: 'end' }));
      socket.write(request);
    });
  }

  it('answers headers over the limit with a problem+json 431 and closes the connection cleanly', async () => {
    for (const size of [20_000, 100_000, 1_000_000]) {
      const { response, ending } = await rawExchange(`GET /notes/1 HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(size)}\r\n\r\n`);
      expect(ending).toBe('end');
      const [head, body] = response.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
      expect(JSON.parse(body as string)).toMatchObject({ status: 431, code: 'REQUEST_HEADERS_TOO_LARGE', title: 'Request Header Fields Too Large' });
    }
    await expectProblem(await fetch(`${service.url}/notes/1`, { headers: { ...auth, 'x-big': 'a'.repeat(100_000) } }), 431, 'REQUEST_HEADERS_TOO_LARGE');
    const malformed = await rawExchange('GET /notes/1 HTTP/1.1\r\nhost x\r\n\r\n');
    expect(malformed.response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"MALFORMED_REQUEST"/);
    // The server still serves.
    expect((await fetch(`${service.url}/notes/1`, { headers: auth })).status).toBe(200);
  });

  it('requires a valid bearer token, accepting every configured one', async () => {
    await expectProblem(await post({ text: 'hi' }, { authorization: '' }), 401, 'UNAUTHORIZED');
    await expectProblem(await post({ text: 'hi' }, { authorization: 'Bearer nope' }), 401, 'UNAUTHORIZED');
    expect((await post({ text: 'rotated' }, { authorization: 'Bearer next-probe-token' })).status).toBe(201);
  });

  it('answers unknown routes with problem+json', async () => {
    await expectProblem(await fetch(`${service.url}/nowhere`), 404, 'ROUTE_NOT_FOUND');
  });

  it('maps coded errors through the status table and hides unexpected ones', async () => {
    const refused = await expectProblem(await post({ text: 'refuse' }), 409, 'ILLEGAL_TRANSITION');
    expect(refused).toMatchObject({ detail: 'cannot add a note in status closed', currentStatus: 'closed', instance: '/notes' });
    const crashed = await expectProblem(await post({ text: 'crash' }), 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(crashed)).not.toContain('hunter2');
  });

  describe('Idempotency-Key', () => {
    it('replays the first response and writes once', async () => {
      const before = await countNotes();
      const first = await post({ text: 'once' }, { 'idempotency-key': 'key-once' });
      const second = await post({ text: 'once' }, { 'idempotency-key': 'key-once' });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await second.json()).toEqual(await first.json());
      expect(await countNotes()).toBe(before + 1);
    });

    it('treats the same body in another key order as the same request', async () => {
      expect((await post('{"text":"ordered","priority":2}', { 'idempotency-key': 'key-order' })).status).toBe(201);
      const again = await post('{"priority":2,"text":"ordered"}', { 'idempotency-key': 'key-order' });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    });

    it('refuses the same key with a different body (422)', async () => {
      await post({ text: 'first body' }, { 'idempotency-key': 'key-reused' });
      await expectProblem(await post({ text: 'second body' }, { 'idempotency-key': 'key-reused' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('lets concurrent requests with one key write once and answer alike', async () => {
      const before = await countNotes();
      const responses = await Promise.all(Array.from({ length: 5 }, () => post({ text: 'slow' }, { 'idempotency-key': 'key-concurrent' })));
      const bodies = await Promise.all(responses.map((r) => r.json()));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
      expect(await countNotes()).toBe(before + 1);
    });

    it('replays a refusal, and undoes its partial writes', async () => {
      const before = await countNotes();
      await expectProblem(await post({ text: 'refuse' }, { 'idempotency-key': 'key-refused' }), 409, 'ILLEGAL_TRANSITION');
      const replay = await post({ text: 'refuse' }, { 'idempotency-key': 'key-refused' });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      await expectProblem(replay, 409, 'ILLEGAL_TRANSITION');
      expect(await countNotes()).toBe(before);
    });

    it('does not remember a failure, so the client can retry with the same key', async () => {
      failuresBeforeSuccess = 1;
      const before = await countNotes();
      await expectProblem(await post({ text: 'flaky' }, { 'idempotency-key': 'key-flaky' }), 500, 'INTERNAL_ERROR');
      const retried = await post({ text: 'flaky' }, { 'idempotency-key': 'key-flaky' });
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(await countNotes()).toBe(before + 1);
    });

    it('refuses a malformed key', async () => {
      await expectProblem(await post({ text: 'hi' }, { 'idempotency-key': 'x'.repeat(300) }), 400, 'IDEMPOTENCY_KEY_INVALID');
    });
  });

  it('documents the route and its body schema in OpenAPI', async () => {
    const response = await fetch(`${service.url}/docs-json`);
    expect(response.status).toBe(200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const document = (await response.json()) as any;
    const operation = document.paths['/notes'].post;
    expect(operation.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string', minLength: 1, maxLength: 100 } },
      required: ['text'],
      additionalProperties: false,
    });
    expect(operation.security).toEqual([{ platform: [] }]);
  });
});
