// The demo receiver of docker-compose: a partner's webhook endpoint that
// prints what arrives and keeps the last 100 deliveries for GET /received.
// With WEBHOOK_SECRET (the endpoint's whsec_… secret) it verifies the
// Standard Webhooks signature and answers 401 to a bad one, as a partner
// should. Plain Node, no dependencies, so it runs on the stock node image.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 4000);
const secret = process.env.WEBHOOK_SECRET ?? '';
const toleranceSeconds = 5 * 60;
const received = [];

function signatureValid(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  // During a rotation several space-separated signatures arrive; one match is enough.
  return String(signatures)
    .split(' ')
    .some((entry) => {
      const [version, value] = entry.split(',');
      const given = Buffer.from(value ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method === 'GET' && request.url === '/received') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  if (request.method !== 'POST') {
    response.writeHead(405).end();
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const verified = secret ? signatureValid(request.headers, body) : null;
    if (verified === false) {
      console.log(`rejected ${request.headers['webhook-id'] ?? '(no id)'}: bad signature`);
      response.writeHead(401).end();
      return;
    }
    let type = '(not JSON)';
    try {
      type = JSON.parse(body).type;
    } catch {
      // Printed as received; a partner would refuse it.
    }
    received.push({ id: request.headers['webhook-id'], type, verified, path: request.url, body });
    if (received.length > 100) received.shift();
    console.log(`received ${request.headers['webhook-id']} ${type} on ${request.url} (signature ${verified === null ? 'not checked' : 'valid'})`);
    response.writeHead(204).end();
  });
});

server.listen(port, '0.0.0.0', () => console.log(`demo receiver listening on :${server.address().port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('SIGINT', () => server.close(() => process.exit(0)));
