import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';

// Scenarios: compose's demo receiver, run as its own process, accepts a
// webhook signed by the public standardwebhooks library and lists it as
// verified; refuses a wrong signature with 401; without a secret it accepts
// and records the signature as not checked.

const secret = `whsec_${randomBytes(32).toString('base64')}`;

async function startReceiver(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, 'demo-receiver', 'receiver.mjs')], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on :(\d+)/);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`receiver exited with ${code}: ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

const body = JSON.stringify({ type: 'purchase.made_effective', timestamp: new Date().toISOString(), data: { purchase_id: 'pur_1' } });

function signedHeaders(id: string, signingSecret: string): Record<string, string> {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(signingSecret).sign(id, now, body),
  };
}

describe('demo receiver', () => {
  it('accepts a correctly signed webhook and refuses a wrongly signed one', async () => {
    const { url, child } = await startReceiver({ WEBHOOK_SECRET: secret });
    try {
      const good = await fetch(`${url}/webhooks`, { method: 'POST', headers: signedHeaders('msg_good', secret), body });
      expect(good.status).toBe(204);
      const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
      const bad = await fetch(`${url}/webhooks`, { method: 'POST', headers: signedHeaders('msg_bad', otherSecret), body });
      expect(bad.status).toBe(401);
      const received = (await (await fetch(`${url}/received`)).json()) as { id: string; type: string; verified: boolean | null }[];
      expect(received).toEqual([expect.objectContaining({ id: 'msg_good', type: 'purchase.made_effective', verified: true })]);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('without a secret, accepts and records the signature as not checked', async () => {
    const { url, child } = await startReceiver({});
    try {
      const response = await fetch(`${url}/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' }, body });
      expect(response.status).toBe(204);
      const received = (await (await fetch(`${url}/received`)).json()) as { verified: boolean | null }[];
      expect(received).toEqual([expect.objectContaining({ verified: null })]);
    } finally {
      await stop(child);
    }
  });
});
