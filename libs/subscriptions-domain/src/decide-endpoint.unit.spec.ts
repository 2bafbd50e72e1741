import { defaultActiveCampaignMapping } from '@gancho/contracts';
import { activeSecrets, foldEndpoint, headerValueHint, initialEndpointState, upcastEndpointEvent, upcastingEvolve, type Endpoint, type EndpointEvent, type EndpointSettings, type EndpointState } from './endpoint';
import { decideEndpoint, EndpointAlreadyExistsError, EndpointNotFoundError, InvalidEndpointCommandError, type EndpointCommand } from './decide-endpoint';
import { customHeaderProblems, eventTypeFilterProblems } from './endpoint-rules';

const t0 = new Date('2026-11-27T12:00:00.000Z');
const at = (minutes: number) => ({ now: new Date(t0.getTime() + minutes * 60_000) });
const settings: EndpointSettings = {
  url: 'https://hooks.escola.example/gancho',
  destination: { type: 'webhook' },
  description: 'enrollment',
  eventTypes: ['purchase.*'],
  headers: { 'X-Api-Token': { sealed: 'v1.k.sealed-header', hint: null } },
  rateLimitPerSecond: null,
  ordering: 'none',
  includePersonalData: true,
};
const created: EndpointEvent = {
  type: 'EndpointCreated',
  data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings, enabled: true, sealedSecret: 'v1.k.sealed-1', occurredAt: t0.toISOString() },
};

/** Given events, when a command: then these events (or this error). */
function given(...events: EndpointEvent[]) {
  const state: EndpointState = foldEndpoint(events);
  return {
    when: (command: EndpointCommand) => ({
      then: (expected: EndpointEvent[]) => expect(decideEndpoint(command, state)).toEqual(expected),
      thenRefuses: (error: new (...args: never[]) => Error) => expect(() => decideEndpoint(command, state)).toThrow(error),
    }),
    state,
  };
}
const endpointOf = (state: EndpointState): Endpoint => {
  if (state.status === 'absent') throw new Error('absent');
  return state.endpoint;
};

describe('endpoint decider', () => {
  it('creates an endpoint once', () => {
    const create: EndpointCommand = {
      type: 'CreateEndpoint',
      data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings, enabled: true, sealedSecret: 'v1.k.sealed-1' },
      metadata: at(0),
    };
    given().when(create).then([created]);
    given(created).when(create).thenRefuses(EndpointAlreadyExistsError);
  });

  it('refuses unknown event types, reserved headers and a bad rate limit', () => {
    const create = (overrides: Partial<EndpointSettings>): EndpointCommand => ({
      type: 'CreateEndpoint',
      data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings: { ...settings, ...overrides }, enabled: true, sealedSecret: 's' },
      metadata: at(0),
    });
    given()
      .when(create({ eventTypes: ['purchase.teleported'] }))
      .thenRefuses(InvalidEndpointCommandError);
    given()
      .when(create({ headers: { 'Webhook-Signature': { sealed: 'v1.k.x', hint: null } } }))
      .thenRefuses(InvalidEndpointCommandError);
    given()
      .when(create({ rateLimitPerSecond: 0 }))
      .thenRefuses(InvalidEndpointCommandError);
  });

  it('records only the settings that change, and nothing for a no-op', () => {
    const later = at(5);
    given(created)
      .when({ type: 'UpdateEndpoint', data: { changes: { description: 'new', url: settings.url } }, metadata: later })
      .then([{ type: 'EndpointUpdated', data: { changes: { description: 'new' }, occurredAt: later.now.toISOString() } }]);
    given(created)
      .when({ type: 'UpdateEndpoint', data: { changes: { eventTypes: ['purchase.*'] }, enabled: true }, metadata: later })
      .then([]);
  });

  it('disables and re-enables on the partner’s word', () => {
    const off: EndpointEvent = { type: 'EndpointDisabled', data: { reason: 'by_partner', detail: 'Disabled by the partner.', occurredAt: at(1).now.toISOString() } };
    given(created)
      .when({ type: 'UpdateEndpoint', data: { changes: {}, enabled: false }, metadata: at(1) })
      .then([off]);
    given(created, off)
      .when({ type: 'UpdateEndpoint', data: { changes: {}, enabled: true }, metadata: at(2) })
      .then([{ type: 'EndpointEnabled', data: { occurredAt: at(2).now.toISOString() } }]);
  });

  it('disables on a health report, once, and ignores a report older than the last re-enable', () => {
    const report = (minutes: number): EndpointCommand => ({
      type: 'DisableEndpoint',
      data: { reason: 'gone', detail: '410 Gone', reportedAt: at(minutes).now.toISOString() },
      metadata: at(10),
    });
    const gone: EndpointEvent = { type: 'EndpointDisabled', data: { reason: 'gone', detail: '410 Gone', occurredAt: at(10).now.toISOString() } };
    given(created).when(report(9)).then([gone]);
    given(created, gone).when(report(9)).then([]);
    const reenabled: EndpointEvent = { type: 'EndpointEnabled', data: { occurredAt: at(11).now.toISOString() } };
    given(created, gone, reenabled).when(report(9)).then([]);
    expect(endpointOf(given(created, gone).state)).toMatchObject({ enabled: false, disabled: { reason: 'gone', detail: '410 Gone' } });
  });

  it('rotates the secret, keeping the previous one valid for the overlap', () => {
    const rotation: EndpointCommand = { type: 'RotateSecret', data: { sealedSecret: 'v1.k.sealed-2', overlapMs: 60 * 60_000 }, metadata: at(30) };
    const rotated: EndpointEvent = {
      type: 'EndpointSecretRotated',
      data: { sealedSecret: 'v1.k.sealed-2', previousValidUntil: at(90).now.toISOString(), occurredAt: at(30).now.toISOString() },
    };
    given(created).when(rotation).then([rotated]);
    const endpoint = endpointOf(given(created, rotated).state);
    expect(endpoint.secrets).toEqual({
      current: { sealed: 'v1.k.sealed-2', validFrom: at(30).now.toISOString(), validUntil: null },
      previous: { sealed: 'v1.k.sealed-1', validFrom: t0.toISOString(), validUntil: at(90).now.toISOString() },
    });
    expect(activeSecrets(endpoint, at(60).now).map((s) => s.sealed)).toEqual(['v1.k.sealed-2', 'v1.k.sealed-1']);
    expect(activeSecrets(endpoint, at(91).now).map((s) => s.sealed)).toEqual(['v1.k.sealed-2']);
  });

  it('reads an endpoint created before destinations existed as a webhook', () => {
    const { destination: _none, ...oldSettings } = settings;
    const old = { ...created, data: { ...created.data, settings: oldSettings } } as EndpointEvent;
    expect(endpointOf(given(old).state).settings.destination).toEqual({ type: 'webhook' });
  });

  it('reads an endpoint created before include_personal_data existed as including it', () => {
    const { includePersonalData: _none, ...oldSettings } = settings;
    const old = { ...created, data: { ...created.data, settings: oldSettings } } as EndpointEvent;
    expect(endpointOf(given(old).state).settings.includePersonalData).toBe(true);
  });

  it('refuses an ActiveCampaign destination without personal data: a contact is synced by its e-mail', () => {
    const destination = { type: 'activecampaign' as const, apiUrl: 'https://escola.api-us1.com', sealedApiToken: 'v1.k.sealed-token', apiTokenHint: 'f00d', mapping: defaultActiveCampaignMapping() };
    const update = (changes: Partial<EndpointSettings>): EndpointCommand => ({ type: 'UpdateEndpoint', data: { changes }, metadata: at(5) });
    given(created)
      .when(update({ destination, url: destination.apiUrl, headers: {}, includePersonalData: false }))
      .thenRefuses(InvalidEndpointCommandError);
    given(created)
      .when(update({ includePersonalData: false }))
      .then([{ type: 'EndpointUpdated', data: { changes: { includePersonalData: false }, occurredAt: at(5).now.toISOString() } }]);
  });

  it('moves an endpoint to ActiveCampaign only with its url the API URL, no custom headers and no comma in a tag', () => {
    const destination = {
      type: 'activecampaign' as const,
      apiUrl: 'https://escola.api-us1.com',
      sealedApiToken: 'v1.k.sealed-token',
      apiTokenHint: 'f00d',
      mapping: defaultActiveCampaignMapping(),
    };
    const update = (changes: Partial<EndpointSettings>): EndpointCommand => ({ type: 'UpdateEndpoint', data: { changes }, metadata: at(5) });
    // The created endpoint has a custom header: it must go in the same change.
    given(created)
      .when(update({ destination, url: destination.apiUrl }))
      .thenRefuses(InvalidEndpointCommandError);
    given(created)
      .when(update({ destination, headers: {} }))
      .thenRefuses(InvalidEndpointCommandError);
    const moved = update({ destination, url: destination.apiUrl, headers: {} });
    given(created)
      .when(moved)
      .then([{ type: 'EndpointUpdated', data: { changes: { destination, url: destination.apiUrl, headers: {} }, occurredAt: at(5).now.toISOString() } }]);
    const withComma = { ...destination, mapping: { ...destination.mapping, recovery_tag: 'carrinho, recuperar' } };
    given(created)
      .when(update({ destination: withComma, url: destination.apiUrl, headers: {} }))
      .thenRefuses(InvalidEndpointCommandError);
  });

  it('disables on a refused destination token (unauthorized), with the reason kept', () => {
    const report: EndpointCommand = {
      type: 'DisableEndpoint',
      data: { reason: 'unauthorized', detail: 'ActiveCampaign refused the API token (403)', reportedAt: at(9).now.toISOString() },
      metadata: at(10),
    };
    const off: EndpointEvent = { type: 'EndpointDisabled', data: { reason: 'unauthorized', detail: 'ActiveCampaign refused the API token (403)', occurredAt: at(10).now.toISOString() } };
    given(created).when(report).then([off]);
    expect(endpointOf(given(created, off).state)).toMatchObject({ enabled: false, disabled: { reason: 'unauthorized' } });
  });

  it('treats a deleted endpoint as gone for every command', () => {
    const deleted: EndpointEvent = { type: 'EndpointDeleted', data: { occurredAt: at(3).now.toISOString() } };
    given(created)
      .when({ type: 'DeleteEndpoint', data: {}, metadata: at(3) })
      .then([deleted]);
    const commands: EndpointCommand[] = [
      { type: 'DeleteEndpoint', data: {}, metadata: at(4) },
      { type: 'UpdateEndpoint', data: { changes: { description: 'x' } }, metadata: at(4) },
      { type: 'RotateSecret', data: { sealedSecret: 's', overlapMs: 0 }, metadata: at(4) },
    ];
    for (const command of commands) {
      given(created, deleted).when(command).thenRefuses(EndpointNotFoundError);
      given().when(command).thenRefuses(EndpointNotFoundError);
    }
  });
});

describe('header values recorded in the clear', () => {
  // The seal of a test: what matters is that the value comes out sealed, from the injected function.
  const seal = (endpointId: string, name: string, value: string) => ({ sealed: `sealed(${endpointId}:${name}:${value.length})`, hint: headerValueHint(value) });
  const plainCreated = {
    type: 'EndpointCreated',
    data: { ...created.data, settings: { ...settings, headers: { Authorization: 'Bearer s3cr3t-token-value' } } },
  } as unknown as EndpointEvent;
  const plainUpdated = { type: 'EndpointUpdated', data: { changes: { headers: { 'X-Env': 'prod' } }, occurredAt: at(1).now.toISOString() } } as unknown as EndpointEvent;

  it('are sealed when read, and the state never holds them', () => {
    const state = [plainCreated, plainUpdated].reduce(upcastingEvolve(seal), initialEndpointState);
    expect(endpointOf(state).settings.headers).toEqual({ 'X-Env': { sealed: 'sealed(ep_1:X-Env:4)', hint: null } });
    const first = upcastEndpointEvent(plainCreated, 'ep_1', seal);
    expect(first.type === 'EndpointCreated' && first.data.settings.headers).toEqual({ Authorization: { sealed: 'sealed(ep_1:Authorization:25)', hint: 'alue' } });
    expect(JSON.stringify(first)).not.toContain('s3cr3t');
  });

  it('leave events already sealed, or without headers, as they are', () => {
    expect(upcastEndpointEvent(created, 'ep_1', seal)).toBe(created);
    const enabled: EndpointEvent = { type: 'EndpointEnabled', data: { occurredAt: t0.toISOString() } };
    expect(upcastEndpointEvent(enabled, 'ep_1', seal)).toBe(enabled);
  });

  it('show the last four characters only of a value long enough to keep most of it hidden', () => {
    expect(headerValueHint('Bearer s3cr3t-token-value')).toBe('alue');
    expect(headerValueHint('short-value')).toBeNull();
  });
});

describe('endpoint rules', () => {
  it.each([
    [{ 'X-Api-Token': 'abc', Authorization: 'Bearer t' }, []],
    [{ 'bad name': 'x' }, ['"bad name" is not a valid header name (RFC 7230 token)']],
    [{ Host: 'evil' }, ['Host is set by Gancho and cannot be customised']],
    [{ 'content-type': 'text/plain' }, ['content-type is set by Gancho and cannot be customised']],
    [{ 'Transfer-Encoding': 'chunked' }, ['Transfer-Encoding is set by Gancho and cannot be customised']],
    [{ 'webhook-id': 'x' }, ['webhook-id is set by Gancho and cannot be customised']],
    [{ 'X-A': 'x', 'x-a': 'y' }, ['x-a is given twice (header names are case-insensitive)']],
    [{ 'X-Inject': 'a\r\nB: c' }, ['X-Inject: the value must be printable ASCII, without line breaks']],
    [{ 'X-Long': 'x'.repeat(1025) }, ['X-Long: the value is longer than 1024 bytes']],
  ])('headers %j', (headers, problems) => {
    expect(customHeaderProblems(headers)).toEqual(problems);
  });

  it('caps the number of headers', () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    expect(customHeaderProblems(many)).toEqual(['at most 20 headers, not 21']);
  });

  it('accepts exact types, prefixes and *, and names what it refuses', () => {
    expect(eventTypeFilterProblems(['purchase.made_effective', 'purchase.*', '*'])).toEqual([]);
    expect(eventTypeFilterProblems([])).toHaveLength(1);
    expect(eventTypeFilterProblems(['purchase.nope', 'refund.*'])).toHaveLength(2);
    // Not a status, but a type an endpoint subscribes to.
    expect(eventTypeFilterProblems(['purchase.personal_data_erased'])).toEqual([]);
  });

  it('accepts operational event types, alone or beside purchase types, and refuses unknown ones', () => {
    expect(eventTypeFilterProblems(['endpoint.disabled', 'message.exhausted'])).toEqual([]);
    expect(eventTypeFilterProblems(['purchase.*', 'endpoint.*', 'message.*'])).toEqual([]);
    expect(eventTypeFilterProblems(['endpoint.deleted', 'message.*x'])).toHaveLength(2);
  });
});
