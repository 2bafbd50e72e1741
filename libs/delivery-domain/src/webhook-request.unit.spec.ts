import { examplePayload } from '@gancho/contracts';
import { verifyWebhook } from '@gancho/webhook-signing';
import { Webhook } from 'standardwebhooks';
import { messageIdFor } from './message-id';
import { webhookBodyFor } from './webhook-body';
import { webhookRequestFor } from './webhook-request';

// Scenarios:
// - An attempt's request is the canonical body signed under the message id, verifiable by receivers.
// - Retries days later carry the same id and body and a fresh timestamp, so receivers' tolerance checks pass.

const statusEvent = examplePayload('purchase.made_effective').data;
const type = 'purchase.made_effective' as const;
const secrets = [`whsec_${Buffer.alloc(32, 1).toString('base64')}`, `whsec_${Buffer.alloc(32, 2).toString('base64')}`];
const messageId = messageIdFor('evt_1', 'ep_1');

describe('webhookRequestFor', () => {
  it('given a status event, then the request carries its canonical body, signed under the message id', () => {
    const sentAt = new Date('2026-11-27T19:30:00.000Z');
    const request = webhookRequestFor({ messageId, statusEvent, type, secrets, sentAt });
    expect(request.body).toBe(webhookBodyFor(statusEvent, type));
    expect(request.headers).toMatchObject({ 'webhook-id': messageId, 'webhook-timestamp': '1795807800', 'content-type': 'application/json' });
    for (const secret of secrets) {
      expect(verifyWebhook({ headers: request.headers, body: request.body, secrets: [secret], now: sentAt })).toEqual({ id: messageId, timestamp: sentAt });
    }
  });

  it('given a retry three days later, then the same id and body with a timestamp the receiver accepts now', () => {
    const first = webhookRequestFor({ messageId, statusEvent, type, secrets, sentAt: new Date(Date.now() - 3 * 86_400_000) });
    const retry = webhookRequestFor({ messageId, statusEvent, type, secrets, sentAt: new Date() });
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(retry.body).toBe(first.body);
    expect(() => new Webhook(secrets[1] as string).verify(first.body, first.headers)).toThrow(/too old/);
    expect(new Webhook(secrets[1] as string).verify(retry.body, retry.headers)).toEqual(JSON.parse(retry.body));
  });
});
