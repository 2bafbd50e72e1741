import { defaultActiveCampaignMapping } from '@gancho/contracts';
import { decideEndpoint, InvalidEndpointCommandError, type EndpointCommand } from './decide-endpoint';
import { foldEndpoint, type EndpointEvent, type EndpointSettings } from './endpoint';
import type { EndpointAuth } from './endpoint-auth';

const now = new Date('2026-11-27T12:00:00.000Z');
const basic: EndpointAuth = { type: 'basic', username: 'gancho', sealedPassword: 'v1.k.pw', passwordHint: null };
const mtls = (validTo: string): EndpointAuth => ({
  type: 'mtls',
  certificate: '-----BEGIN CERTIFICATE-----',
  sealedPrivateKey: 'v1.k.key',
  certificateInfo: { subject: 'CN=gancho', issuer: 'CN=ca', validFrom: '2026-01-01T00:00:00.000Z', validTo, fingerprintSha256: 'AB' },
});
const settings = (overrides: Partial<EndpointSettings>): EndpointSettings => ({
  url: 'https://hooks.escola.example/gancho',
  destination: { type: 'webhook' },
  description: '',
  eventTypes: ['*'],
  headers: {},
  rateLimitPerSecond: null,
  ordering: 'none',
  includePersonalData: true,
  ...overrides,
});
const create = (overrides: Partial<EndpointSettings>): EndpointCommand => ({
  type: 'CreateEndpoint',
  data: { endpointId: 'ep_1', partnerId: 'ptn_1', settings: settings(overrides), enabled: true, sealedSecret: 'v1.k.s' },
  metadata: { now },
});
const problemsOf = (command: EndpointCommand, events: EndpointEvent[] = []): string[] => {
  try {
    decideEndpoint(command, foldEndpoint(events));
    return [];
  } catch (error) {
    if (error instanceof InvalidEndpointCommandError) return [...error.problems];
    throw error;
  }
};

describe('endpoint auth', () => {
  it('is accepted on a webhook endpoint, and replaced whole by an update', () => {
    const [created] = decideEndpoint(create({ auth: basic }), foldEndpoint([]));
    expect(created).toMatchObject({ type: 'EndpointCreated', data: { settings: { auth: basic } } });
    const rotated: EndpointAuth = { ...basic, sealedPassword: 'v1.k.pw2' };
    const events = decideEndpoint({ type: 'UpdateEndpoint', data: { changes: { auth: rotated } }, metadata: { now } }, foldEndpoint([created as EndpointEvent]));
    expect(events).toEqual([{ type: 'EndpointUpdated', data: { changes: { auth: rotated }, occurredAt: now.toISOString() } }]);
  });

  it('refuses a custom Authorization header beside Basic or OAuth, but not beside mTLS', () => {
    const headers = { authorization: { sealed: 'v1.k.h', hint: null } };
    expect(problemsOf(create({ auth: basic, headers }))).toEqual([expect.stringContaining('remove the custom one')]);
    expect(problemsOf(create({ auth: mtls('2027-01-01T00:00:00.000Z'), headers }))).toEqual([]);
  });

  it('refuses an expired client certificate when it is given, an mTLS endpoint over http, and auth on ActiveCampaign', () => {
    expect(problemsOf(create({ auth: mtls('2026-11-27T11:59:59.000Z') }))).toEqual(['the client certificate has expired']);
    expect(problemsOf(create({ auth: mtls('2027-01-01T00:00:00.000Z'), url: 'http://127.0.0.1:9/x' }))).toEqual(['a client certificate is only presented over https']);
    const ac = create({
      auth: basic,
      url: 'https://x.api-us1.com',
      destination: { type: 'activecampaign', apiUrl: 'https://x.api-us1.com', sealedApiToken: 'v1.k.t', apiTokenHint: 'abcd', mapping: defaultActiveCampaignMapping() },
    });
    expect(problemsOf(ac)).toContain('only a webhook endpoint takes an auth');
  });

  it('does not refuse other changes of an endpoint whose stored certificate expired since', () => {
    const [created] = decideEndpoint(create({ auth: mtls('2026-11-28T00:00:00.000Z') }), foldEndpoint([]));
    const later: EndpointCommand = { type: 'UpdateEndpoint', data: { changes: { description: 'later' } }, metadata: { now: new Date('2026-12-01T00:00:00.000Z') } };
    expect(problemsOf(later, [created as EndpointEvent])).toEqual([]);
  });
});
