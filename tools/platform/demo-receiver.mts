// The built-in receiver of `npm start`: a partner's endpoint on loopback that
// verifies every signature with the public `standardwebhooks` package and
// prints each webhook it gets.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  purchaseId: string;
  status: string;
  sequence: number;
  verified: boolean;
  receivedAt: number;
}

export interface DemoReceiver {
  url: string;
  received: ReceivedWebhook[];
  setSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

export async function startDemoReceiver(options: { port: number; print?: (line: string) => void; refreshSecrets?: () => Promise<string[]> }): Promise<DemoReceiver> {
  let secrets: string[] = [];
  const received: ReceivedWebhook[] = [];
  const verify = (body: string, headers: Record<string, string>) =>
    secrets.some((secret) => {
      try {
        new Webhook(secret).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', async () => {
      const headers = request.headers as Record<string, string>;
      let verified = verify(body, headers);
      // A rotated secret: fetch the current ones once and try again.
      if (!verified && options.refreshSecrets) {
        secrets = await options.refreshSecrets().catch(() => secrets);
        verified = verify(body, headers);
      }
      let payload: { type?: string; data?: { purchase_id?: string; status?: string; sequence?: number } } = {};
      try {
        payload = JSON.parse(body);
      } catch {
        // reported below as unverified
      }
      const webhook: ReceivedWebhook = {
        id: headers['webhook-id'] ?? '?',
        type: payload.type ?? '?',
        purchaseId: payload.data?.purchase_id ?? '?',
        status: payload.data?.status ?? '?',
        sequence: payload.data?.sequence ?? 0,
        verified,
        receivedAt: Date.now(),
      };
      received.push(webhook);
      options.print?.(`${verified ? '✔ verified' : '✘ NOT VERIFIED'}  ${webhook.type.padEnd(38)} ${webhook.purchaseId}  #${webhook.sequence}  (${webhook.id})`);
      response.writeHead(verified ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    received,
    setSecrets: (next) => (secrets = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
