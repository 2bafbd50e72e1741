import { randomBytes } from 'node:crypto';
import { signWebhook } from '../signature';

export const secret = `whsec_${randomBytes(32).toString('base64')}`;
export const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;

/** A real webhook body, as Gancho sends it (compact JSON). */
export function madeEffectiveBody(purchaseId = 'pur_01a21ee5774c437bbaf6da1748080559'): string {
  return JSON.stringify({
    type: 'purchase.made_effective',
    timestamp: '2026-11-27T19:28:47.123Z',
    data: {
      purchase_id: purchaseId,
      partner_id: 'ptn_escola_azul',
      status: 'made_effective',
      previous_status: 'approved',
      phase: 'won',
      occurred_at: '2026-11-27T19:28:47.123Z',
      sequence: 9,
      course: { id: 'crs_data_science', name: 'Ciência de Dados', price_cents: 1234500, currency: 'BRL' },
      student: { name: 'Ana Souza', email: 'ana@example.com' },
    },
  });
}

/** POSTs a body signed with `signingSecret` (or with the given headers) and returns status and parsed answer. */
export async function postWebhook(
  url: string,
  { body = madeEffectiveBody(), signingSecret = secret, id = `msg_${randomBytes(8).toString('hex')}`, headers }: { body?: string; signingSecret?: string; id?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> | null; contentType: string | null }> {
  const signed = headers ?? signWebhook({ id, timestamp: new Date(), body, secret: signingSecret });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  const json = text !== '' && /json/.test(contentType ?? '');
  return { status: response.status, body: json ? (JSON.parse(text) as Record<string, unknown>) : null, contentType };
}
