import { checkEndpointUrl, checkHostWithoutLookup, isAllowListedHost, type EndpointUrlPolicy, type ResolveHost } from './check-endpoint-url';

const dns: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
  'v6-private.example.com': ['fd00::5'],
  'mapped.example.com': ['::ffff:10.0.0.8'],
  'metadata.example.com': ['169.254.169.254'],
};
const resolve: ResolveHost = async (host) => dns[host] ?? [];
const strict: EndpointUrlPolicy = { allowHttp: false, allowPrivate: false, resolve };
const permissive: EndpointUrlPolicy = { allowHttp: true, allowPrivate: true, resolve: () => Promise.reject(new Error('DNS must not be asked')) };

describe('checkEndpointUrl', () => {
  it('accepts a public https URL whose every address is public', async () => {
    expect(await checkEndpointUrl('https://hooks.example.com/gancho?x=1', strict)).toEqual({ allowed: true, url: 'https://hooks.example.com/gancho?x=1' });
    expect(await checkEndpointUrl('https://8.8.8.8/hook', strict)).toMatchObject({ allowed: true });
    expect(await checkEndpointUrl('https://[2606:4700:4700::1111]:8443/hook', strict)).toMatchObject({ allowed: true });
  });

  it.each([
    ['not a url', 'malformed_url'],
    ['http://hooks.example.com/', 'scheme_not_allowed'],
    ['ftp://hooks.example.com/', 'scheme_not_allowed'],
    ['javascript:alert(1)', 'scheme_not_allowed'],
    ['https://user:pass@hooks.example.com/', 'userinfo_not_allowed'],
    ['https://user@hooks.example.com/', 'userinfo_not_allowed'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:7f00:1]/', 'loopback'],
    ['https://10.1.2.3/', 'private'],
    ['https://[fd00::1]/', 'unique_local'],
    ['https://169.254.169.254/latest/meta-data/', 'cloud_metadata'],
    ['https://[fd00:ec2::254]/', 'cloud_metadata'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'cloud_metadata'],
    ['https://METADATA.google.internal./', 'cloud_metadata'],
    ['https://localhost/', 'private_hostname'],
    ['https://api.localhost/', 'private_hostname'],
    ['https://printer.local/', 'private_hostname'],
    ['https://db.corp.internal/', 'private_hostname'],
    ['https://rebind.example.com/', 'loopback'],
    ['https://v6-private.example.com/', 'unique_local'],
    ['https://mapped.example.com/', 'private'],
    ['https://metadata.example.com/', 'cloud_metadata'],
    ['https://nowhere.example.com/', 'unresolvable'],
  ])('refuses %s (%s)', async (url, reason) => {
    const check = await checkEndpointUrl(url, strict);
    expect(check).toMatchObject({ allowed: false, reason });
    if (!check.allowed) expect(check.detail.length).toBeGreaterThan(0);
  });

  it('allows http and private hosts only when the policy says so, without asking DNS', async () => {
    expect(await checkEndpointUrl('http://127.0.0.1:8080/hook', permissive)).toEqual({ allowed: true, url: 'http://127.0.0.1:8080/hook' });
    expect(await checkEndpointUrl('http://localhost:8080/hook', permissive)).toMatchObject({ allowed: true });
    expect(await checkEndpointUrl('https://10.0.0.1/', { ...strict, allowPrivate: true })).toMatchObject({ allowed: true });
    expect(await checkEndpointUrl('http://8.8.8.8/', { ...strict, allowHttp: true })).toMatchObject({ allowed: true });
  });

  it('refuses cloud metadata even where private networks are allowed', async () => {
    expect(await checkEndpointUrl('http://169.254.169.254/', permissive)).toMatchObject({ allowed: false, reason: 'cloud_metadata' });
    expect(await checkEndpointUrl('http://metadata.google.internal/', permissive)).toMatchObject({ allowed: false, reason: 'cloud_metadata' });
  });

  it('returns the normalised URL', async () => {
    expect(await checkEndpointUrl('http://2130706433:9000/a', permissive)).toEqual({ allowed: true, url: 'http://127.0.0.1:9000/a' });
  });

  it('lets a resolver failure through, so the caller can answer "try again"', async () => {
    const failing: EndpointUrlPolicy = { ...strict, resolve: () => Promise.reject(new Error('SERVFAIL')) };
    await expect(checkEndpointUrl('https://hooks.example.com/', failing)).rejects.toThrow('SERVFAIL');
  });
});

describe('checkHostWithoutLookup', () => {
  it.each([
    ['localhost', false, 'private_hostname'],
    ['API.localhost.', false, 'private_hostname'],
    ['db.corp.internal', false, 'private_hostname'],
    ['router.home.arpa', false, 'private_hostname'],
    ['metadata.google.internal', false, 'cloud_metadata'],
    ['metadata.google.internal', true, 'cloud_metadata'],
    ['127.0.0.1', false, 'loopback'],
    ['[::1]', false, 'loopback'],
    ['169.254.169.254', true, 'cloud_metadata'],
  ])('refuses %s (private allowed: %s) as %s', (host, allowPrivate, reason) => {
    expect(checkHostWithoutLookup(host, allowPrivate)).toMatchObject({ verdict: 'refused', reason });
  });

  it('accepts IP literals the policy allows, and leaves every other name to its addresses', () => {
    expect(checkHostWithoutLookup('8.8.8.8', false)).toEqual({ verdict: 'address' });
    expect(checkHostWithoutLookup('[2606:4700:4700::1111]', false)).toEqual({ verdict: 'address' });
    expect(checkHostWithoutLookup('10.0.0.1', true)).toEqual({ verdict: 'address' });
    expect(checkHostWithoutLookup('hooks.example.com', false)).toEqual({ verdict: 'resolve' });
    expect(checkHostWithoutLookup('localhost', true)).toEqual({ verdict: 'resolve' });
  });
});

describe('allowedHosts: exact host[:port] exceptions, as the sender exempts them at connect time', () => {
  const policy: EndpointUrlPolicy = { allowHttp: true, allowPrivate: false, allowedHosts: ['127.0.0.1:4099', 'Receiver.Internal', '[::1]:8080'], resolve };

  it.each([
    ['http://127.0.0.1:4099/hook', true],
    ['http://127.0.0.1:4098/hook', false],
    ['http://receiver.internal/hook', true],
    ['http://receiver.internal:9000/hook', true],
    ['http://[::1]:8080/hook', true],
    ['http://[::1]:8081/hook', false],
  ])('%s allowed: %s', async (url, allowed) => {
    expect((await checkEndpointUrl(url, policy)).allowed).toBe(allowed);
  });

  it('still refuses what the list cannot excuse: the scheme, and credentials in the URL', async () => {
    expect(await checkEndpointUrl('https://user:pw@127.0.0.1:4099/hook', policy)).toMatchObject({ allowed: false, reason: 'userinfo_not_allowed' });
    expect(await checkEndpointUrl('http://127.0.0.1:4099/hook', { ...policy, allowHttp: false })).toMatchObject({ allowed: false, reason: 'scheme_not_allowed' });
  });

  it("matches a URL without a port on its scheme's default port", () => {
    expect(isAllowListedHost(['hooks.local:443'], new URL('https://hooks.local/x'))).toBe(true);
    expect(isAllowListedHost(['hooks.local:443'], new URL('http://hooks.local/x'))).toBe(false);
    expect(isAllowListedHost([], new URL('http://hooks.local/x'))).toBe(false);
  });
});
