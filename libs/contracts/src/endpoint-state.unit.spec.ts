import { endpointHeaderSecretContext, openEndpointHeaders, type EndpointStateV1 } from './endpoint-state';

// A stand-in for @gancho/secret-box (contracts is domain code): "sealed" names the context it was sealed for.
const seal = (value: string, context: string) => `sealed[${context}](${value})`;
const open = (sealed: string, context: string) => {
  const match = /^sealed\[(.*)\]\((.*)\)$/.exec(sealed);
  if (!match || match[1] !== context) throw new Error('does not open');
  return match[2] as string;
};

describe('endpoint state headers', () => {
  it('seal each value for its endpoint and its name, case-insensitively', () => {
    expect(endpointHeaderSecretContext('ep_1', 'Authorization')).toBe('endpoint-header:ep_1:authorization');
    expect(endpointHeaderSecretContext('ep_1', 'authorization')).toBe(endpointHeaderSecretContext('ep_1', 'AUTHORIZATION'));
    expect(endpointHeaderSecretContext('ep_2', 'Authorization')).not.toBe(endpointHeaderSecretContext('ep_1', 'Authorization'));
  });

  it('open from sealed_headers, keeping the names as given', () => {
    const state: Pick<EndpointStateV1, 'endpoint_id' | 'headers' | 'sealed_headers'> = {
      endpoint_id: 'ep_1',
      headers: {},
      sealed_headers: { Authorization: seal('Bearer t', 'endpoint-header:ep_1:authorization') },
    };
    expect(openEndpointHeaders(state, open)).toEqual({ Authorization: 'Bearer t' });
    expect(() => openEndpointHeaders({ ...state, endpoint_id: 'ep_2' }, open)).toThrow('does not open');
  });

  it('take the plain headers of a state published before values were sealed', () => {
    expect(openEndpointHeaders({ endpoint_id: 'ep_1', headers: { 'X-School': 'azul' } }, open)).toEqual({ 'X-School': 'azul' });
  });
});
