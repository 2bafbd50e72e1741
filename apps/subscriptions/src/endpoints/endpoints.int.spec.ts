import { defaultActiveCampaignMapping, endpointDestinationSecretContext, endpointEventKeySecretContext, Topics, type EndpointHealthReportV1, type EndpointStateV1 } from '@gancho/contracts';
import { KafkaTransport } from '@gancho/messaging';
import { SecretBox } from '@gancho/secret-box';
import { createTestDatabase, eventually, kafkaBrokers, type TestDatabase, type TestService } from '@gancho/testing';
import { Client } from 'pg';
import { recordTopics, startSubscriptions, subscriptionsClient, testEncryptionKey, testTopics } from '../testing/subscriptions-test-app';

// Scenarios, on real PostgreSQL and Kafka:
// - CRUD of a partner's endpoints: validation names every bad field, Idempotency-Key replays, cursor pages;
// - URL safety at save time: http, userinfo, private and metadata addresses and names resolving to them → 422;
// - signing secrets: whsec_ + 32 bytes, rotation keeps the previous one for the overlap; nothing in the
//   database or on the topic holds a secret in the clear, and what is sealed opens to what the API shows;
// - the audit trail: who, when, what, no secrets;
// - the compacted endpoints topic carries the full state after each change and a tombstone on delete;
// - delivery's health reports disable an endpoint (republished); PATCH enabled: true re-enables it;
// - ActiveCampaign destinations: url is the API URL, the token is sealed on the topic and never in the clear in
//   the database, the API or the audit trail (last four characters only); the mapping gets its defaults; a
//   PATCH may keep the token only for the same API URL; a refused token ('unauthorized') disables the endpoint.
describe('endpoints', () => {
  let database: TestDatabase;
  let service: TestService;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  let partner: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => ReturnType<ReturnType<typeof subscriptionsClient>['request']>;
  let partnerId: string;
  const topics = testTopics();
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: 'subscriptions-test-delivery' });

  const newEndpoint = (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    partner('POST', '/endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['purchase.*'], ...overrides }, headers);
  const statesOf = (endpointId: string): Array<EndpointStateV1 | null> => recorder.messages.filter((m) => m.key === endpointId).map((m) => (m.value.length === 0 ? null : JSON.parse(m.value.toString())));

  async function dumpDatabase(): Promise<string> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = ['events', 'endpoints', 'idempotency_keys', 'streams', 'checkpoints'];
      const parts = await Promise.all(tables.map((t) => client.query(`SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') AS all FROM subscriptions.${t} r`)));
      return parts.map((p) => p.rows[0].all).join('');
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_endpoints');
    service = await startSubscriptions(database.url, { env: { ...topics, SECRET_ROTATION_OVERLAP_MS: '3600000' } });
    recorder = await recordTopics([topics.ENDPOINTS_TOPIC as string]);
    const api = subscriptionsClient(service.url);
    const created = await api.newPartner('Escola Azul');
    partnerId = created.partnerId;
    partner = api.as(created.key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await recorder?.stop();
    await transport.close();
    await service?.close();
    await database?.drop();
  });

  it('creates an endpoint with defaults, and reads it back', async () => {
    const created = await newEndpoint({ description: 'matrículas', headers: { 'X-Api-Token': 'abc' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^ep_[0-9a-f]{32}$/),
      partner_id: partnerId,
      url: 'http://127.0.0.1:9/hooks',
      destination: { type: 'webhook' },
      description: 'matrículas',
      event_types: ['purchase.*'],
      enabled: true,
      disabled_reason: null,
      disabled_detail: null,
      disabled_at: null,
      headers: { 'X-Api-Token': { value_last4: null } },
      rate_limit_per_second: null,
      ordering: 'none',
      payload_filter: null,
      auth: null,
      include_personal_data: true,
      version: 1,
      created_at: expect.any(String),
      updated_at: created.body.created_at,
    });
    expect((await partner('GET', `/endpoints/${created.body.id}`)).body).toEqual(created.body);
  });

  it('names every bad field, and refuses unknown event types and reserved headers', async () => {
    const refused = await newEndpoint({
      event_types: ['purchase.teleported', 'refund.*'],
      headers: { 'Webhook-Signature': 'x', Host: 'evil', 'X-Ok': 'a\nb' },
      rate_limit_per_second: 0,
      ordering: 'random',
      colour: 'blue',
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const paths = refused.body.errors.map((e: { path: string }) => e.path);
    expect(new Set(paths)).toEqual(new Set(['(body)', 'event_types', 'headers', 'rate_limit_per_second', 'ordering']));
    const messages = refused.body.errors.map((e: { message: string }) => e.message).join('\n');
    for (const word of ['purchase.teleported', 'refund.*', 'Webhook-Signature', 'Host', 'X-Ok', 'colour']) expect(messages).toContain(word);
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    expect((await newEndpoint({ headers: tooMany })).status).toBe(400);
    expect((await newEndpoint({ event_types: [] })).status).toBe(400);
  });

  it('replays a POST with the same Idempotency-Key, and refuses the key with another body', async () => {
    const first = await newEndpoint({ description: 'once' }, { 'idempotency-key': 'create-once' });
    const again = await newEndpoint({ description: 'once' }, { 'idempotency-key': 'create-once' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await newEndpoint({ description: 'other' }, { 'idempotency-key': 'create-once' })).body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('lists with a bounded limit and a cursor', async () => {
    for (let i = 0; i < 3; i++) await newEndpoint({ description: `page ${i}` });
    const all = (await partner('GET', '/endpoints?limit=100')).body.items as Array<{ id: string }>;
    const page1 = await partner('GET', '/endpoints?limit=2');
    expect(page1.body.items.map((e: { id: string }) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    const page2 = await partner('GET', `/endpoints?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((e: { id: string }) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));
    expect((await partner('GET', '/endpoints?limit=101')).status).toBe(400);
    expect((await partner('GET', '/endpoints?limit=0')).status).toBe(400);
    expect((await partner('GET', '/endpoints?cursor=nope')).status).toBe(400);
  });

  it('updates only what a PATCH names, disables and re-enables, and deletes', async () => {
    const { body: endpoint } = await newEndpoint();
    const patched = await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'new', event_types: ['purchase.made_effective'], rate_limit_per_second: 5 });
    expect(patched.body).toMatchObject({ description: 'new', event_types: ['purchase.made_effective'], rate_limit_per_second: 5, url: endpoint.url, version: 2 });
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'new' })).body.version).toBe(2);
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: false })).body).toMatchObject({ enabled: false, disabled_reason: 'by_partner' });
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabled_reason: null });
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { rate_limit_per_second: null })).body.rate_limit_per_second).toBeNull();
    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { headers: { Connection: 'close' } })).status).toBe(400);
    expect((await partner('DELETE', `/endpoints/${endpoint.id}`)).status).toBe(204);
    for (const [method, path] of [
      ['GET', `/endpoints/${endpoint.id}`],
      ['PATCH', `/endpoints/${endpoint.id}`],
      ['DELETE', `/endpoints/${endpoint.id}`],
      ['GET', `/endpoints/${endpoint.id}/secret`],
    ] as const) {
      expect((await partner(method, path, method === 'PATCH' ? { description: 'x' } : undefined)).body).toMatchObject({ status: 404, code: 'ENDPOINT_NOT_FOUND' });
    }
  });

  it('gives each endpoint a signing secret, rotates it with an overlap, and never stores or publishes one in the clear', async () => {
    const { body: endpoint } = await newEndpoint();
    const before = await partner('GET', `/endpoints/${endpoint.id}/secret`);
    expect(before.headers.get('cache-control')).toBe('no-store');
    expect(before.body).toEqual({ current: { secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/), valid_from: endpoint.created_at }, previous: null });
    expect(Buffer.from(before.body.current.secret.slice(6), 'base64')).toHaveLength(32);

    const rotated = await partner('POST', `/endpoints/${endpoint.id}/secret/rotate`, undefined, { 'idempotency-key': 'rotate-1' });
    expect(rotated.status).toBe(200);
    expect(JSON.stringify(rotated.body)).not.toContain('whsec_');
    const overlapMs = Date.parse(rotated.body.previous_valid_until) - Date.parse(rotated.body.rotated_at);
    expect(overlapMs).toBe(3_600_000);
    const after = await partner('GET', `/endpoints/${endpoint.id}/secret`);
    expect(after.body.previous).toEqual({ secret: before.body.current.secret, valid_until: rotated.body.previous_valid_until });
    expect(after.body.current.secret).not.toBe(before.body.current.secret);
    // The same Idempotency-Key does not rotate twice.
    await partner('POST', `/endpoints/${endpoint.id}/secret/rotate`, undefined, { 'idempotency-key': 'rotate-1' });
    expect((await partner('GET', `/endpoints/${endpoint.id}/secret`)).body).toEqual(after.body);

    const secrets = [before.body.current.secret, after.body.current.secret];
    const dump = await dumpDatabase();
    for (const secret of secrets) {
      expect(dump).not.toContain(secret.slice(6));
      expect(dump).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('hex'));
    }
    let state: EndpointStateV1 | null | undefined;
    await eventually(() => {
      state = statesOf(endpoint.id).at(-1);
      expect(state?.signing_secrets).toHaveLength(2);
    });
    const published = recorder.messages
      .filter((m) => m.key === endpoint.id)
      .map((m) => m.value.toString())
      .join('');
    for (const secret of secrets) expect(published).not.toContain(secret.slice(6));
    // What is sealed opens, with the configured key and the endpoint's context, to what the partner reads.
    const box = SecretBox.fromConfig(testEncryptionKey);
    expect(state?.signing_secrets.map((s) => box.open(s.sealed, `endpoint:${endpoint.id}`))).toEqual([after.body.current.secret, before.body.current.secret]);
    expect(state?.signing_secrets[1]).toMatchObject({ valid_until: rotated.body.previous_valid_until });
  });

  it('keeps an audit trail of who changed what and when, without secrets', async () => {
    const { body: endpoint } = await newEndpoint({ headers: { Authorization: 'Bearer receiver-credential' } });
    await partner('PATCH', `/endpoints/${endpoint.id}`, { description: 'audited', headers: { Authorization: 'Bearer other-credential' } });
    await partner('POST', `/endpoints/${endpoint.id}/secret/rotate`);
    await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: false });
    const audit = await partner('GET', `/endpoints/${endpoint.id}/audit`);
    const actor = { type: 'partner', partner_id: partnerId, api_key_id: expect.stringMatching(/^key_/) };
    expect(audit.body.items).toEqual([
      expect.objectContaining({ type: 'EndpointCreated', version: 1, actor, changes: expect.objectContaining({ url: endpoint.url, header_names: ['Authorization'], enabled: true }) }),
      expect.objectContaining({ type: 'EndpointUpdated', version: 2, actor, changes: { description: 'audited', header_names: ['Authorization'] } }),
      expect.objectContaining({ type: 'EndpointSecretRotated', version: 3, actor, changes: { previous_secret_valid_until: expect.any(String) } }),
      expect.objectContaining({ type: 'EndpointDisabled', version: 4, actor, changes: { enabled: false, reason: 'by_partner', detail: 'Disabled by the partner.' } }),
    ]);
    for (const entry of audit.body.items) expect(entry).toMatchObject({ event_id: expect.any(String), occurred_at: expect.any(String), recorded_at: expect.any(String) });
    const text = JSON.stringify(audit.body);
    for (const hidden of ['whsec_', 'v1.test.', 'receiver-credential', 'other-credential']) expect(text).not.toContain(hidden);
  });

  it('publishes the full state after each change to the compacted endpoints topic, and a tombstone on delete', async () => {
    const { body: endpoint } = await newEndpoint({ headers: { 'X-Tenant': 'azul' }, rate_limit_per_second: 3 });
    await partner('PATCH', `/endpoints/${endpoint.id}`, { event_types: ['*'] });
    await partner('DELETE', `/endpoints/${endpoint.id}`);
    await eventually(() => expect(statesOf(endpoint.id)).toHaveLength(3));
    const [createdState, updatedState, tombstone] = statesOf(endpoint.id);
    expect(createdState).toEqual({
      endpoint_id: endpoint.id,
      partner_id: partnerId,
      url: endpoint.url,
      destination: { type: 'webhook' },
      description: '',
      event_types: ['purchase.*'],
      enabled: true,
      disabled_reason: null,
      disabled_detail: null,
      headers: {},
      sealed_headers: { 'X-Tenant': expect.stringMatching(/^v1\.test\./) },
      rate_limit_per_second: 3,
      ordering: 'none',
      include_personal_data: true,
      signing_secrets: [{ sealed: expect.stringMatching(/^v1\.test\./), valid_from: endpoint.created_at, valid_until: null }],
      version: 1,
      created_at: endpoint.created_at,
      updated_at: endpoint.created_at,
    });
    expect(updatedState).toMatchObject({ event_types: ['*'], version: 2 });
    expect(tombstone).toBeNull();
    const messages = recorder.messages.filter((m) => m.key === endpoint.id);
    expect(messages.map((m) => m.headers['gancho-event-type'])).toEqual(['EndpointCreated', 'EndpointUpdated', 'EndpointDeleted']);
    expect(messages.every((m) => m.headers['content-type'] === 'application/json')).toBe(true);
  });

  it('creates an ActiveCampaign endpoint: token sealed, shown by its last four characters, mapping completed with defaults', async () => {
    const token = 'ac-token-0123456789abcdef0123456789abcdef-7e3a';
    const created = await partner('POST', '/endpoints', {
      event_types: ['purchase.*'],
      destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9/', api_token: token, mapping: { recovery_tag: 'recuperar-carrinho', fields: { price: null } } },
    });
    expect(created.status).toBe(201);
    const mapping = { ...defaultActiveCampaignMapping(), recovery_tag: 'recuperar-carrinho', fields: { ...defaultActiveCampaignMapping().fields, price: null } };
    expect(created.body).toMatchObject({
      url: 'http://127.0.0.1:9',
      destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token_last4: '7e3a', mapping },
      headers: {},
      // So the contact's fields end on the purchase's latest status.
      ordering: 'per_purchase',
    });
    expect(JSON.stringify(created.body)).not.toContain(token);
    const id: string = created.body.id;
    expect((await partner('GET', `/endpoints/${id}`)).body).toEqual(created.body);
    expect((await partner('GET', '/endpoints?limit=100')).body.items.find((e: { id: string }) => e.id === id)).toEqual(created.body);

    // On the topic: sealed under the endpoint's destination context, opening to the token.
    await eventually(() => expect(statesOf(id)).toHaveLength(1));
    const [state] = statesOf(id) as EndpointStateV1[];
    if (!state) throw new Error('no state');
    expect(state.url).toBe('http://127.0.0.1:9');
    expect(state.destination).toEqual({ type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token_sealed: expect.stringMatching(/^v1\.test\./), mapping, event_tracking: null, on_erasure: 'keep' });
    const sealed = state.destination?.type === 'activecampaign' ? state.destination.api_token_sealed : '';
    const box = SecretBox.fromConfig(testEncryptionKey);
    expect(box.open(sealed, endpointDestinationSecretContext(id))).toBe(token);
    expect(() => box.open(sealed, `endpoint:${id}`)).toThrow();

    // The mapping changes without the token; the API URL does not.
    const remapped = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9', mapping: { tag_prefix: 'escola:' } } });
    expect(remapped.status).toBe(200);
    expect(remapped.body.destination).toMatchObject({ api_token_last4: '7e3a', mapping: { tag_prefix: 'escola:', recovery_tag: 'gancho:cart_recovery' } });
    await eventually(() => expect(statesOf(id)).toHaveLength(2));
    const remappedState = statesOf(id)[1];
    expect(remappedState?.destination?.type === 'activecampaign' && box.open(remappedState.destination.api_token_sealed, endpointDestinationSecretContext(id))).toBe(token);
    const moved = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', mapping: {} } });
    expect(moved.status).toBe(400);
    expect(moved.body.errors).toEqual([{ path: 'destination.api_token', message: 'give the API token again when the api_url changes' }]);
    const newToken = 'ac-token-fedcba9876543210fedcba9876543210-11b2';
    const movedWithToken = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', api_token: newToken } });
    expect(movedWithToken.body).toMatchObject({ url: 'http://127.0.0.2:9', destination: { api_url: 'http://127.0.0.2:9', api_token_last4: '11b2', mapping: { tag_prefix: 'escola:' } } });
    expect((await partner('PATCH', `/endpoints/${id}`, { url: 'http://127.0.0.1:9/hooks' })).status).toBe(400);

    // Event tracking: off by default, on with the account's id and event key (sealed, last four shown), kept when left out.
    expect(movedWithToken.body.destination.event_tracking).toBeNull();
    const eventKey = 'evk-0a1b2c3d4e5f60718293a4b5c6d7e8f9-c0de';
    const tracked = await partner('PATCH', `/endpoints/${id}`, {
      destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', event_tracking: { actid: '654321', event_key: eventKey } },
    });
    expect(tracked.body.destination).toMatchObject({ api_token_last4: '11b2', event_tracking: { actid: '654321', event_key_last4: 'c0de' } });
    expect(JSON.stringify(tracked.body)).not.toContain(eventKey);
    const kept = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', mapping: { status_tags: false } } });
    expect(kept.body.destination).toMatchObject({ event_tracking: { actid: '654321', event_key_last4: 'c0de' }, mapping: { status_tags: false } });
    await eventually(() => expect(statesOf(id).at(-1)?.version).toBe(kept.body.version));
    const trackedState = statesOf(id).at(-1)?.destination;
    const sealedKey = trackedState?.type === 'activecampaign' ? trackedState.event_tracking?.event_key_sealed : undefined;
    expect(box.open(sealedKey ?? '', endpointEventKeySecretContext(id))).toBe(eventKey);
    const off = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', event_tracking: null } });
    expect(off.body.destination.event_tracking).toBeNull();
    expect(
      (await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'activecampaign', api_url: 'http://127.0.0.2:9', event_tracking: { actid: 'abc', event_key: 'short' } } })).body.errors.map(
        (e: { path: string }) => e.path,
      ),
    ).toEqual(['destination.event_tracking.actid', 'destination.event_tracking.event_key']);
    expect((await partner('PATCH', `/endpoints/${id}`, { headers: { 'X-A': 'b' } })).status).toBe(400);

    // Back to a webhook: it needs a url.
    expect((await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'webhook' } })).status).toBe(400);
    const back = await partner('PATCH', `/endpoints/${id}`, { destination: { type: 'webhook' }, url: 'http://127.0.0.1:9/hooks' });
    expect(back.body).toMatchObject({ url: 'http://127.0.0.1:9/hooks', destination: { type: 'webhook' } });

    // Never in the clear: not in the database, not in the audit trail.
    const dump = await dumpDatabase();
    for (const secret of [token, newToken, eventKey]) {
      expect(dump).not.toContain(secret);
      expect(JSON.stringify((await partner('GET', `/endpoints/${id}/audit`)).body)).not.toContain(secret);
    }
    const audit = (await partner('GET', `/endpoints/${id}/audit`)).body.items;
    expect(audit[0].changes.destination).toEqual({ type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token_last4: '7e3a', mapping, event_tracking: null, on_erasure: 'keep' });
  });

  it('names what is wrong with an ActiveCampaign destination', async () => {
    const token = 'ac-token-0123456789abcdef0123456789abcdef';
    const post = (body: Record<string, unknown>) => partner('POST', '/endpoints', { event_types: ['*'], ...body });
    const ac = (destination: Record<string, unknown>, rest: Record<string, unknown> = {}) => post({ destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token: token, ...destination }, ...rest });
    const pathsOf = async (response: Promise<{ status: number; body: { code: string; errors?: { path: string }[] } }>) => {
      const { status, body } = await response;
      return { status, code: body.code, paths: (body.errors ?? []).map((e) => e.path) };
    };
    expect(await pathsOf(post({}))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['url'] });
    expect(await pathsOf(ac({}, { url: 'http://127.0.0.1:9/hooks' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['url'] });
    expect(await pathsOf(ac({}, { headers: { 'X-A': 'b' } }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['headers'] });
    expect(await pathsOf(ac({ api_token: 'short' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['destination.api_token'] });
    expect(await pathsOf(ac({ api_url: 'http://127.0.0.1:9/admin' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['destination.api_url'] });
    expect(await pathsOf(ac({ api_url: 'http://127.0.0.1:9/?x=1' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', paths: ['destination.api_url'] });
    // The versioned base that AC's examples show is taken as the account's URL.
    expect((await ac({ api_url: 'http://127.0.0.1:9/api/3/' })).body).toMatchObject({ url: 'http://127.0.0.1:9', destination: { api_url: 'http://127.0.0.1:9' } });
    expect(await pathsOf(ac({ mapping: { recovery_tag: 'a,b', recovery_statuses: ['teleported'], fields: { course: 'not a tag' } } }))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      paths: ['destination.mapping.recovery_tag', 'destination.mapping.recovery_statuses.0', 'destination.mapping.fields.course'],
    });
    expect(await pathsOf(post({ destination: { type: 'mailchimp' }, url: 'http://127.0.0.1:9/hooks' }))).toMatchObject({ status: 400, paths: ['destination.type'] });
  });

  it('disables an endpoint whose destination refused the token (unauthorized), with the reason', async () => {
    const { body: endpoint } = await partner('POST', '/endpoints', {
      event_types: ['*'],
      destination: { type: 'activecampaign', api_url: 'http://127.0.0.1:9', api_token: 'ac-token-0123456789abcdef0123456789abcdef' },
    });
    const report: EndpointHealthReportV1 = {
      endpoint_id: endpoint.id,
      partner_id: partnerId,
      reason: 'unauthorized',
      detail: 'ActiveCampaign refused the API token (403) at http://127.0.0.1:9: Forbidden. Give the endpoint a valid token and re-enable it.',
      occurred_at: new Date().toISOString(),
    };
    await transport.publish(Topics.endpointHealth, [{ key: endpoint.id, value: JSON.stringify(report), headers: { 'content-type': 'application/json' } }]);
    await eventually(async () => expect((await partner('GET', `/endpoints/${endpoint.id}`)).body).toMatchObject({ enabled: false, disabled_reason: 'unauthorized', disabled_detail: report.detail }));
    await eventually(() => expect(statesOf(endpoint.id).at(-1)).toMatchObject({ enabled: false, disabled_reason: 'unauthorized' }));
  });

  it('disables nothing on a health report of a newer release it cannot fully read, and counts it', async () => {
    const { body: endpoint } = await newEndpoint();
    const report: EndpointHealthReportV1 = { endpoint_id: endpoint.id, partner_id: partnerId, reason: 'failing', detail: 'no success since yesterday', occurred_at: new Date().toISOString() };
    const publish = (value: unknown) => transport.publish(Topics.endpointHealth, [{ key: endpoint.id, value: JSON.stringify(value), headers: { 'content-type': 'application/json' } }]);
    // A future report narrows its meaning with a field this release does not know: acting on the rest of it would disable the whole endpoint.
    await publish({ ...report, reason: 'gone', detail: 'future', scope: { event_types: ['purchase.denied'] } });
    await publish(report);
    await eventually(async () => expect((await partner('GET', `/endpoints/${endpoint.id}`)).body).toMatchObject({ enabled: false, disabled_reason: 'failing', disabled_detail: report.detail }));
    const audit = await partner('GET', `/endpoints/${endpoint.id}/audit`);
    expect(audit.body.items.filter((item: { type: string }) => item.type === 'EndpointDisabled')).toHaveLength(1);
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(/gancho_messaging_records_not_understood_total\{[^}]*delivery\.endpoint-health\.v1[^}]*\} [1-9]/);
  });

  it('disables an endpoint on a health report from delivery, republishes it, and the partner re-enables it', async () => {
    const { body: endpoint } = await newEndpoint();
    const report: EndpointHealthReportV1 = {
      endpoint_id: endpoint.id,
      partner_id: partnerId,
      reason: 'gone',
      detail: '410 Gone from http://127.0.0.1:9/hooks',
      occurred_at: new Date().toISOString(),
    };
    const publish = (value: unknown) => transport.publish(Topics.endpointHealth, [{ key: endpoint.id, value: JSON.stringify(value), headers: { 'content-type': 'application/json' } }]);
    // A malformed report and one naming another partner change nothing; the valid one after them applies.
    await publish({ endpoint_id: endpoint.id, reason: 'bored' });
    await publish({ ...report, partner_id: 'ptn_00000000000000000000000000000000' });
    await publish(report);
    await eventually(async () => expect((await partner('GET', `/endpoints/${endpoint.id}`)).body).toMatchObject({ enabled: false, disabled_reason: 'gone', disabled_detail: report.detail, version: 2 }));
    await eventually(() => expect(statesOf(endpoint.id).at(-1)).toMatchObject({ enabled: false, disabled_reason: 'gone', disabled_detail: report.detail }));
    const audit = await partner('GET', `/endpoints/${endpoint.id}/audit`);
    expect(audit.body.items.at(-1)).toMatchObject({ type: 'EndpointDisabled', actor: { type: 'delivery' }, changes: { reason: 'gone' } });

    expect((await partner('PATCH', `/endpoints/${endpoint.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabled_reason: null });
    await eventually(() => expect(statesOf(endpoint.id).at(-1)).toMatchObject({ enabled: true, version: 3 }));
    // The same report delivered again is older than the re-enable: ignored.
    await publish(report);
    await publish({ ...report, endpoint_id: 'ep_00000000000000000000000000000000' });
    // A newer report behind them on the same key (same partition, read in order): once it has applied, the stale one was read and ignored.
    const sentinel: EndpointHealthReportV1 = { ...report, reason: 'failing', detail: 'no success since the re-enable', occurred_at: new Date().toISOString() };
    await publish(sentinel);
    await eventually(async () => expect((await partner('GET', `/endpoints/${endpoint.id}`)).body).toMatchObject({ enabled: false, disabled_reason: 'failing' }));
    // Applied right after the re-enable (version 3), with nothing from the stale report between.
    expect((await partner('GET', `/endpoints/${endpoint.id}`)).body).toMatchObject({ version: 4, disabled_detail: sentinel.detail });
    const types = (await partner('GET', `/endpoints/${endpoint.id}/audit`)).body.items.map((item: { type: string }) => item.type);
    expect(types.slice(-3)).toEqual(['EndpointDisabled', 'EndpointEnabled', 'EndpointDisabled']);
  });
});

describe('endpoint URL safety at save time', () => {
  let database: TestDatabase;
  let service: TestService;
  let partner: ReturnType<ReturnType<typeof subscriptionsClient>['as']>;
  const dns: Record<string, string[]> = {
    'hooks.escola.example': ['93.184.216.34'],
    'sneaky.escola.example': ['93.184.216.34', '10.0.0.7'],
    'metadata.escola.example': ['169.254.169.254'],
  };

  beforeAll(async () => {
    database = await createTestDatabase('subscriptions_url_safety');
    service = await startSubscriptions(database.url, {
      env: { ALLOW_HTTP_ENDPOINTS: 'false', ALLOW_PRIVATE_NETWORK_ENDPOINTS: 'false' },
      resolveHost: async (host) => {
        if (host === 'flaky.escola.example') throw new Error('SERVFAIL');
        return dns[host] ?? [];
      },
    });
    const api = subscriptionsClient(service.url);
    partner = api.as((await api.newPartner('Escola Segura')).key);
    await eventually(async () => expect((await partner('GET', '/endpoints')).status).toBe(200));
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('accepts a public https URL', async () => {
    const created = await partner('POST', '/endpoints', { url: 'https://hooks.escola.example/gancho', event_types: ['*'] });
    expect(created.status).toBe(201);
  });

  it.each([
    ['http://hooks.escola.example/', 'scheme_not_allowed'],
    ['https://user:pw@hooks.escola.example/', 'userinfo_not_allowed'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://192.168.0.10/', 'private'],
    ['https://100.64.1.1/', 'carrier_grade_nat'],
    ['https://169.254.169.254/latest/meta-data', 'cloud_metadata'],
    ['https://metadata.google.internal/', 'cloud_metadata'],
    ['https://[fd00:ec2::254]/', 'cloud_metadata'],
    ['https://localhost/', 'private_hostname'],
    ['https://sneaky.escola.example/', 'private'],
    ['https://metadata.escola.example/', 'cloud_metadata'],
    ['https://nowhere.escola.example/', 'unresolvable'],
  ])('refuses %s (%s) with 422 ENDPOINT_URL_NOT_ALLOWED, on create and on update', async (url, reason) => {
    const refused = await partner('POST', '/endpoints', { url, event_types: ['*'] });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'ENDPOINT_URL_NOT_ALLOWED', reason, detail: expect.any(String) });
    const { body: ok } = await partner('POST', '/endpoints', { url: 'https://hooks.escola.example/x', event_types: ['*'] });
    expect((await partner('PATCH', `/endpoints/${ok.id}`, { url })).body).toMatchObject({ status: 422, reason });
  });

  it('applies the same policy to an ActiveCampaign API URL', async () => {
    const ac = (api_url: string) => partner('POST', '/endpoints', { event_types: ['*'], destination: { type: 'activecampaign', api_url, api_token: 'ac-token-0123456789abcdef0123456789abcdef' } });
    expect((await ac('https://hooks.escola.example')).body).toMatchObject({ url: 'https://hooks.escola.example', destination: { api_url: 'https://hooks.escola.example' } });
    for (const url of ['http://hooks.escola.example', 'https://10.0.0.7', 'https://metadata.escola.example', 'https://sneaky.escola.example']) {
      const refused = await ac(url);
      expect({ url, status: refused.status, code: refused.body.code }).toEqual({ url, status: 422, code: 'ENDPOINT_URL_NOT_ALLOWED' });
    }
  });

  it('answers 503 when DNS cannot answer now', async () => {
    expect((await partner('POST', '/endpoints', { url: 'https://flaky.escola.example/', event_types: ['*'] })).body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });
});
