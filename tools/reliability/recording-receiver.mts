// A partner's endpoint on loopback that verifies every signature with the
// public `standardwebhooks` package and records what it got, for the ledger.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { ReceivedDelivery } from './delivery-ledger.mts';

export interface RecordingReceiver {
  name: string;
  url: string;
  host: string;
  received: ReceivedDelivery[];
  setSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startRecordingReceiver(name: string): Promise<RecordingReceiver> {
  let webhook: Webhook | undefined;
  const received: ReceivedDelivery[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const headers = request.headers as Record<string, string>;
      let verified = false;
      try {
        webhook?.verify(body, headers);
        verified = webhook !== undefined;
      } catch {
        verified = false;
      }
      let data: { purchase_id?: string; partner_id?: string; sequence?: number } = {};
      try {
        data = (JSON.parse(body) as { data?: typeof data }).data ?? {};
      } catch {
        // recorded as an unknown event below
      }
      received.push({
        endpoint: name,
        webhookId: headers['webhook-id'] ?? '?',
        purchaseId: data.purchase_id ?? '?',
        partnerId: data.partner_id ?? '?',
        sequence: data.sequence ?? 0,
        verified,
        receivedAt: Date.now(),
      });
      // An unverifiable request is refused, so delivery would retry it rather than count it.
      response.writeHead(verified ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}/webhooks/${name}`,
    host: `127.0.0.1:${port}`,
    received,
    setSecret: (secret) => (webhook = new Webhook(secret)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
