import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { eventually } from '@gancho/testing';
import { checkEndpointUrl } from '@gancho/url-safety';
import { generateTestCertificates, type TestCertificates } from '@gancho/testing';
import { startReceiver, type Receiver, type ReceiverHandler, type ReceiverOptions } from './testing/receiver';
import { WebhookSender, defaultUserAgent, type SendResult, type WebhookSenderOptions } from './webhook-sender';

/*
 * Scenarios, all against real servers on loopback:
 * - what the receiver gets (method, path, headers, exact body bytes); keep-alive reuse;
 * - any status is a response, 3xx included, and a redirect is never followed;
 * - one deadline for connect + headers + body (silent and slowloris receivers);
 *   a 50 MB body is cut at maxResponseBytes;
 * - network failures classified: reset, connect_refused, dns, tls, body_too_large, invalid_url;
 * - SSRF: loopback in every spelling, metadata, DNS rebinding, all refused before connecting;
 * - no head-of-line blocking; throughput figures printed.
 */

const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];
const servers: net.Server[] = [];

async function receiver(handler?: ReceiverHandler, options?: ReceiverOptions): Promise<Receiver> {
  const started = await startReceiver(handler, options);
  receivers.push(started);
  return started;
}

function sender(options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const created = new WebhookSender({ allowPrivateNetworks: false, allowHttp: true, timeoutMs: 500, ...options });
  senders.push(created);
  return created;
}

/** A sender that may reach exactly these receivers on loopback, and nothing else private. */
const senderFor = (targets: Receiver[], options: Partial<WebhookSenderOptions> = {}) => sender({ allowedHosts: targets.map((target) => target.authority), ...options });

const post = (to: WebhookSender, url: string, body = '{"type":"purchase.status_changed"}', headers: Record<string, string> = {}) => to.send({ url, headers, body });

function expectResponse(result: SendResult): Extract<SendResult, { kind: 'response' }> {
  if (result.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(result)}`);
  return result;
}

function report(line: string): void {
  process.stdout.write(`[webhook-sender] ${line}\n`);
}

/** A raw TCP server, for receivers that do not speak HTTP properly. */
async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  for (const server of servers.splice(0)) server.close();
});

describe('WebhookSender: requests and responses', () => {
  it('POSTs the body bytes and the caller headers, and owns content-type, user-agent, host and framing', async () => {
    const target = await receiver((_req, res) => res.writeHead(202, { 'x-receiver': 'yes', 'set-cookie': ['a=1', 'b=2'] }).end('accepted'));
    const body = JSON.stringify({ purchase_id: 'pur_1', course: 'Ciência de Dados', emoji: '✅' });
    const result = expectResponse(
      await post(senderFor([target]), target.url('/hooks/gancho?tenant=azul'), body, {
        'webhook-id': 'msg_2b9',
        'Webhook-Signature': 'v1,abc=',
        'Content-Type': 'text/plain',
        'User-Agent': 'curl/8',
        Host: 'evil.example',
        'Content-Length': '1',
        'Transfer-Encoding': 'chunked',
        Connection: 'close',
      }),
    );

    expect(result).toMatchObject({ status: 202, bodySnippet: 'accepted', truncated: false });
    expect(result.headers).toMatchObject({ 'x-receiver': 'yes', 'set-cookie': 'a=1, b=2' });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(target.requests).toHaveLength(1);
    const [received] = target.requests;
    expect(received?.method).toBe('POST');
    expect(received?.path).toBe('/hooks/gancho?tenant=azul');
    expect(received?.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(received?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': defaultUserAgent,
      host: target.authority,
      'content-length': String(Buffer.byteLength(body)),
      'webhook-id': 'msg_2b9',
      'webhook-signature': 'v1,abc=',
    });
    expect(received?.headers['transfer-encoding']).toBeUndefined();
    expect(received?.headers.connection).not.toBe('close');
  });

  it('reuses keep-alive connections: 20 sequential sends open at most 2 sockets', async () => {
    const target = await receiver();
    const to = senderFor([target]);
    for (let i = 0; i < 20; i += 1) expect(expectResponse(await post(to, target.url(`/n/${i}`))).status).toBe(200);
    report(`keep-alive: 20 sequential sends used ${target.connections} connection(s)`);
    expect(target.requests).toHaveLength(20);
    expect(target.connections).toBeLessThanOrEqual(2);
  });

  it('returns 500 and 404 as responses, with their bodies', async () => {
    const target = await receiver((req, res) => (req.url === '/missing' ? res.writeHead(404).end('no such hook') : res.writeHead(500).end('boom')));
    const to = senderFor([target]);
    expect(await post(to, target.url('/missing'))).toMatchObject({ kind: 'response', status: 404, bodySnippet: 'no such hook' });
    expect(await post(to, target.url('/broken'))).toMatchObject({ kind: 'response', status: 500, bodySnippet: 'boom' });
  });

  it.each([301, 302, 307, 308])('returns a %i to a private address as a response and never follows it', async (status) => {
    const internal = await receiver();
    const target = await receiver((_req, res) => res.writeHead(status, { location: internal.url('/admin') }).end());
    // Both are reachable, so only "redirects are not followed" keeps the second one untouched.
    const result = expectResponse(await post(senderFor([target, internal]), target.url('/hook')));
    expect(result.status).toBe(status);
    expect(result.headers.location).toBe(internal.url('/admin'));
    expect(target.requests).toHaveLength(1);
    expect(internal.connections).toBe(0);
  });

  it('keeps a body of exactly maxResponseBytes whole, and cuts a longer one on a UTF-8 character boundary', async () => {
    const target = await receiver((req, res) => res.writeHead(200).end(req.url === '/exact' ? 'x'.repeat(16) : `${'a'.repeat(15)}é and more`));
    const to = senderFor([target], { maxResponseBytes: 16 });
    expect(await post(to, target.url('/exact'))).toMatchObject({ bodySnippet: 'x'.repeat(16), truncated: false });
    // 'é' is two bytes, the 16th and 17th: it is left out rather than cut in half.
    expect(await post(to, target.url('/longer'))).toMatchObject({ bodySnippet: 'a'.repeat(15), truncated: true });
  });

  it('GETs without a body or content-type when asked, and keeps a per-request response limit', async () => {
    const answer = JSON.stringify({ fields: Array.from({ length: 200 }, (_, i) => ({ id: String(i), perstag: `FIELD_${i}` })) });
    const target = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    const to = senderFor([target], { maxResponseBytes: 64 });
    const got = expectResponse(await to.send({ url: target.url('/api/3/fields?limit=100'), method: 'GET', headers: { 'Api-Token': 't' }, body: 'ignored', maxResponseBytes: 65_536 }));
    expect(got).toMatchObject({ status: 200, bodySnippet: answer, truncated: false });
    expect(target.requests[0]).toMatchObject({ method: 'GET', path: '/api/3/fields?limit=100' });
    expect(target.requests[0]?.body.length).toBe(0);
    expect(target.requests[0]?.headers['content-type']).toBeUndefined();
    expect(target.requests[0]?.headers['api-token']).toBe('t');
    // Without the override, the sender's own limit holds.
    expect(await post(to, target.url('/api/3/fields'))).toMatchObject({ truncated: true });
    // A form, when asked.
    await to.send({ url: target.url('/event'), headers: {}, body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' });
    expect(target.requests.at(-1)?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(target.requests.at(-1)?.body.toString()).toBe('a=1&b=2');
  });

  it('reads only maxResponseBytes of a 50 MB response, does not download the rest, and returns promptly', async () => {
    const total = 50 * 1024 * 1024;
    let written = 0;
    let finished: boolean | undefined;
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (finished = res.writableFinished));
      pump();
    });
    const started = performance.now();
    const result = expectResponse(await post(senderFor([target], { timeoutMs: 10_000 }), target.url('/huge')));
    const tookMs = performance.now() - started;
    report(`50 MB response: snippet of ${Buffer.byteLength(result.bodySnippet)} bytes in ${tookMs.toFixed(1)} ms; the receiver wrote ${(written / 1024 / 1024).toFixed(1)} MB before its socket closed`);

    expect(result.bodySnippet).toBe('z'.repeat(4096));
    expect(result.truncated).toBe(true);
    expect(tookMs).toBeLessThan(1_000);
    await eventually(() => expect(finished).toBeDefined());
    expect(finished).toBe(false);
    expect(written).toBeLessThan(total / 2);
  });
});

describe('WebhookSender: one deadline', () => {
  const slack = 250;

  it('times out a receiver that never answers at timeoutMs', async () => {
    const silent = await receiver(() => undefined);
    const result = await post(senderFor([silent]), silent.url());
    expect(result).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(490);
    expect(result.elapsedMs).toBeLessThan(500 + slack);
  });

  it('times out a slowloris receiver that sends its headers and then one body byte every 100 ms', async () => {
    const timers: NodeJS.Timeout[] = [];
    const slow = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      timers.push(setInterval(() => res.write('.'), 100));
    });
    try {
      const result = await post(senderFor([slow]), slow.url());
      expect(result).toMatchObject({ kind: 'error', errorClass: 'timeout' });
      expect(result.elapsedMs).toBeLessThan(500 + slack);
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it('times out a slowloris receiver that trickles its status line one byte every 100 ms', async () => {
    const timers: NodeJS.Timeout[] = [];
    const slow = await tcpServer((socket) => {
      const reply = Buffer.from('HTTP/1.1 200 OK\r\nx-padding: ' + 'p'.repeat(1_000));
      let at = 0;
      socket.once('data', () => timers.push(setInterval(() => socket.write(reply.subarray(at, ++at)), 100)));
    });
    try {
      const result = await post(sender({ allowedHosts: [`127.0.0.1:${slow.port}`] }), `http://127.0.0.1:${slow.port}/`);
      expect(result).toMatchObject({ kind: 'error', errorClass: 'timeout' });
      expect(result.elapsedMs).toBeLessThan(500 + slack);
    } finally {
      timers.forEach(clearInterval);
    }
  });
});

describe('WebhookSender: network failures', () => {
  it('reports reset when the receiver destroys the connection after sending headers', async () => {
    const rude = await receiver((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
    });
    expect(await post(senderFor([rude]), rude.url())).toMatchObject({ kind: 'error', errorClass: 'reset' });
  });

  it('reports reset when the receiver closes the connection without answering', async () => {
    const hangUp = await tcpServer((socket) => socket.once('data', () => socket.destroy()));
    const result = await post(sender({ allowedHosts: [`127.0.0.1:${hangUp.port}`] }), `http://127.0.0.1:${hangUp.port}/`);
    expect(result).toMatchObject({ kind: 'error', errorClass: 'reset' });
  });

  it('reports connect_refused for a closed port', async () => {
    const closed = await receiver();
    await closed.close();
    expect(await post(senderFor([closed]), closed.url())).toMatchObject({ kind: 'error', errorClass: 'connect_refused' });
  });

  it('reports dns for a host that does not resolve', async () => {
    const result = await post(sender({ timeoutMs: 5_000 }), 'http://nonexistent.invalid/hook');
    expect(result).toMatchObject({ kind: 'error', errorClass: 'dns' });
    expect(result.kind === 'error' && result.message).toContain('nonexistent.invalid');
  });

  it('reports body_too_large when the response headers exceed what is read', async () => {
    const bloated = await receiver((_req, res) => res.writeHead(200, { 'x-bloat': 'b'.repeat(64 * 1024) }).end());
    expect(await post(senderFor([bloated]), bloated.url())).toMatchObject({ kind: 'error', errorClass: 'body_too_large' });
  });

  it.each([
    ['not a url', true],
    ['ftp://127.0.0.1/hook', true],
    ['https://user:secret@127.0.0.1/hook', true],
    ['http://127.0.0.1/hook', false],
  ])('refuses %s as invalid_url without connecting (allowHttp: %s)', async (url, allowHttp) => {
    const target = await receiver();
    const result = await post(sender({ allowHttp, allowPrivateNetworks: true }), url.replace('127.0.0.1', target.authority));
    expect(result).toMatchObject({ kind: 'error', errorClass: 'invalid_url' });
    expect(target.connections).toBe(0);
  });
});

describe('WebhookSender: TLS', () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = generateTestCertificates();
  });

  it('delivers over https to a trusted certificate, verified for the URL name while connected to the vetted IP', async () => {
    const secure = await receiver(undefined, { tls: certs.valid, listenOn: '::' });
    const to = sender({ allowHttp: false, allowPrivateNetworks: true, ca: certs.ca });
    expect(await post(to, secure.url('/tls'))).toMatchObject({ kind: 'response', status: 200 });
    expect(await post(to, `https://localhost:${secure.port}/tls`)).toMatchObject({ kind: 'response', status: 200 });
    expect(secure.requests.map((r) => r.headers.host)).toEqual([secure.authority, `localhost:${secure.port}`]);
  });

  it.each([
    ['a self-signed certificate', 'selfSigned'],
    ['an expired certificate', 'expired'],
    ['a certificate for another name', 'wrongName'],
  ] as const)('reports tls for %s', async (_what, which) => {
    const secure = await receiver(undefined, { tls: certs[which] });
    const result = await post(senderFor([secure], { allowHttp: false, ca: certs.ca }), secure.url());
    expect(result).toMatchObject({ kind: 'error', errorClass: 'tls' });
    expect(secure.requests).toHaveLength(0);
  });
});

describe('WebhookSender: SSRF guard on the address connected to', () => {
  const loopbackSpellings = ['http://127.0.0.1:<port>/', 'http://localhost:<port>/', 'http://[::1]:<port>/', 'http://[::ffff:127.0.0.1]:<port>/', 'http://2130706433:<port>/', 'http://0177.0.0.1:<port>/'];
  const withPort = (spelling: string, port: number) => spelling.replace('<port>', String(port));

  it.each(loopbackSpellings)('refuses %s with ssrf_blocked, and nothing connects', async (spelling) => {
    // Dual-stack, so [::1] and ::ffff:127.0.0.1 would reach it too.
    const target = await receiver(undefined, { listenOn: '::' });
    const result = await post(sender(), withPort(spelling, target.port));
    expect(result).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
    expect(target.connections).toBe(0);
  });

  it('reaches the same loopback spellings when private networks are allowed (so the refusals above are the guard)', async () => {
    const target = await receiver(undefined, { listenOn: '::' });
    const to = sender({ allowPrivateNetworks: true });
    for (const spelling of loopbackSpellings) expect(await post(to, withPort(spelling, target.port))).toMatchObject({ kind: 'response', status: 200 });
    expect(target.requests).toHaveLength(6);
  });

  it('refuses the cloud metadata address, even when private networks are allowed', async () => {
    for (const allowPrivateNetworks of [false, true]) {
      const result = await post(sender({ allowPrivateNetworks }), 'http://169.254.169.254/latest/meta-data/');
      expect(result).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
      expect(result.kind === 'error' && result.message).toContain('cloud metadata');
    }
  });

  it('exempts exactly the allow-listed host:port', async () => {
    const listed = await receiver();
    const other = await receiver();
    const to = senderFor([listed]);
    expect(await post(to, listed.url())).toMatchObject({ kind: 'response', status: 200 });
    expect(await post(to, other.url())).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
    expect(other.connections).toBe(0);
  });

  it('refuses a name when any one of its addresses is private', async () => {
    const target = await receiver();
    const to = sender({ lookup: async () => ['127.0.0.1', '8.8.8.8'] /* loopback first: a broken guard would reach the receiver, never the public address */ });
    expect(await post(to, `http://mixed.example:${target.port}/`)).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
    expect(target.connections).toBe(0);
  });

  it('resolves again at connect time: a name that was public when saved and is 127.0.0.1 now is refused', async () => {
    // Save time (the subscriptions check): the name resolves to a public address. Only a
    // pure check runs here: tests never open a connection to an address off this machine.
    const saved = await checkEndpointUrl('https://rebind.example/hook', { allowHttp: false, allowPrivate: false, resolve: async () => ['93.184.216.34'] });
    expect(saved.allowed).toBe(true);
    // Send time: the same name now answers loopback; the guard resolves again and refuses.
    const target = await receiver();
    const asked: string[] = [];
    const to = sender({
      lookup: async (hostname) => {
        asked.push(hostname);
        return ['127.0.0.1'];
      },
    });
    const url = `http://rebind.example:${target.port}/hook`;
    expect(await post(to, url)).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
    expect(await post(to, url)).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
    expect(asked).toEqual(['rebind.example', 'rebind.example']);
    expect(target.connections).toBe(0);
  });

  describe('before any DNS lookup', () => {
    /** A resolver that answers loopback and counts what it was asked. */
    function countingLookup() {
      const asked: string[] = [];
      return {
        asked,
        lookup: async (hostname: string) => {
          asked.push(hostname);
          return ['127.0.0.1'];
        },
      };
    }

    it('refuses what can be refused without the network (scheme, credentials, literals, private and metadata names): zero lookups', async () => {
      const target = await receiver();
      const dns = countingLookup();
      const to = sender({ allowHttp: false, lookup: dns.lookup });
      const refused: [url: string, errorClass: string][] = [
        [`http://hooks.example:${target.port}/`, 'invalid_url'],
        ['ftp://hooks.example/', 'invalid_url'],
        ['https://user:pass@hooks.example/', 'invalid_url'],
        [`https://localhost:${target.port}/`, 'ssrf_blocked'],
        ['https://api.localhost/', 'ssrf_blocked'],
        ['https://LOCALHOST./', 'ssrf_blocked'],
        ['https://db.internal/', 'ssrf_blocked'],
        ['https://printer.local/', 'ssrf_blocked'],
        ['https://router.home.arpa/', 'ssrf_blocked'],
        ['https://metadata.google.internal/computeMetadata/v1/', 'ssrf_blocked'],
        ['https://169.254.169.254/latest/meta-data/', 'ssrf_blocked'],
        ['https://10.1.2.3/', 'ssrf_blocked'],
        ['https://[::1]/', 'ssrf_blocked'],
      ];
      for (const [url, errorClass] of refused) expect([url, await post(to, url)]).toMatchObject([url, { kind: 'error', errorClass }]);
      expect(dns.asked).toEqual([]);
      expect(target.connections).toBe(0);
      // The resolver is asked for a name only its addresses can judge (and the loopback answer is refused at connect time).
      expect(await post(to, `https://hooks.example:${target.port}/`)).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
      expect(dns.asked).toEqual(['hooks.example']);
      expect(target.connections).toBe(0);
    });

    it('refuses a metadata name without a lookup even when private networks are allowed, and looks up private names then', async () => {
      const target = await receiver();
      const dns = countingLookup();
      const to = sender({ allowPrivateNetworks: true, lookup: dns.lookup });
      expect(await post(to, 'http://metadata.google.internal/computeMetadata/v1/')).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
      expect(dns.asked).toEqual([]);
      expect(await post(to, `http://db.internal:${target.port}/`)).toMatchObject({ kind: 'response', status: 200 });
      expect(dns.asked).toEqual(['db.internal']);
    });

    it('reads the allow-list before refusing a name: an allow-listed localhost:port is resolved and reached', async () => {
      const target = await receiver();
      const dns = countingLookup();
      const to = sender({ allowedHosts: [`localhost:${target.port}`], lookup: dns.lookup });
      expect(await post(to, `http://localhost:${target.port}/`)).toMatchObject({ kind: 'response', status: 200 });
      expect(await post(to, `http://localhost:${target.port + 1}/`)).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked' });
      expect(dns.asked).toEqual(['localhost']);
    });
  });

  it('connects to the address it checked, not to whatever the name resolves to afterwards', async () => {
    const target = await receiver();
    // The guard's resolver says 127.0.0.2 (where nothing listens); the system resolver would say 127.0.0.1, the receiver.
    const to = sender({ allowPrivateNetworks: true, lookup: async () => ['127.0.0.2'] });
    const result = await post(to, `http://localhost:${target.port}/`);
    expect(result).toMatchObject({ kind: 'error', errorClass: 'connect_refused' });
    expect(result.kind === 'error' && result.message).toContain('127.0.0.2');
    expect(target.connections).toBe(0);
  });
  it('tries the next vetted address when one refuses the connection', async () => {
    const target = await receiver();
    const to = sender({ allowPrivateNetworks: true, lookup: async () => ['127.0.0.2', '127.0.0.1'] });
    expect(await post(to, `http://multi.example:${target.port}/`)).toMatchObject({ kind: 'response', status: 200 });
    expect(target.requests.map((r) => r.headers.host)).toEqual([`multi.example:${target.port}`]);
  });
});

describe('WebhookSender: load', () => {
  it('serves 100 concurrent sends to a healthy receiver promptly while another receiver hangs', async () => {
    const healthy = await receiver();
    const hanging = await receiver(() => undefined);
    const perEndpoint = 8;
    const to = senderFor([healthy, hanging], { timeoutMs: 3_000, connectionsPerEndpoint: perEndpoint });
    const started = performance.now();
    const stuck = Array.from({ length: 50 }, () => post(to, hanging.url()));
    // Every connection the hanging origin may have holds a request (the other 42 queue behind them) before the healthy sends start.
    await eventually(() => expect(hanging.requests).toHaveLength(perEndpoint), { intervalMs: 5 });
    const healthyResults = await Promise.all(Array.from({ length: 100 }, (_, i) => post(to, healthy.url(`/c/${i}`))));
    const healthyMs = performance.now() - started;
    const stuckResults = await Promise.all(stuck);
    report(`head-of-line: 100 healthy sends done in ${healthyMs.toFixed(0)} ms beside 50 sends hanging until their ${3_000} ms timeout`);

    expect(healthyResults.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    expect(healthyMs).toBeLessThan(1_500);
    expect(stuckResults.every((r) => r.kind === 'error' && r.errorClass === 'timeout')).toBe(true);
  });

  it('measures 2000 sequential keep-alive sends to a loopback receiver', async () => {
    const target = await receiver();
    const to = senderFor([target]);
    const count = 2_000;
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i += 1) {
      const at = performance.now();
      const result = await post(to, target.url('/bench'));
      latencies.push(performance.now() - at);
      if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    }
    const seconds = (performance.now() - started) / 1_000;
    latencies.sort((a, b) => a - b);
    const p = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2);
    report(`${count} sequential sends: ${(count / seconds).toFixed(0)} sends/s, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, over ${target.connections} connection(s)`);
    expect(target.requests).toHaveLength(count);
    expect(target.connections).toBeLessThanOrEqual(2);
  });
});
