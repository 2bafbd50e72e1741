// Creates (or finds again) the demo partner, its API key and an endpoint for
// every purchase event pointing at the built-in receiver, through the same
// public APIs an operator and a school would use.
import type { PlatformSecrets } from './platform.mts';

export interface DemoState {
  partnerId: string;
  apiKey: string;
  endpointId: string;
}

async function call(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Retries while a fresh instance is still loading API keys (503). */
async function callWhenReady(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const result = await call(url, token, init);
    if (result.status !== 503 || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function expectStatus(what: string, result: { status: number; body: unknown }, ...ok: number[]): any {
  if (!ok.includes(result.status)) throw new Error(`${what}: HTTP ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

export async function seedDemo(subscriptionsUrl: string, secrets: PlatformSecrets, receiverUrl: string, previous?: DemoState): Promise<DemoState> {
  if (previous) {
    const endpoint = await callWhenReady(`${subscriptionsUrl}/endpoints/${previous.endpointId}`, previous.apiKey);
    if (endpoint.status === 200) {
      if (endpoint.body.url !== receiverUrl || !endpoint.body.enabled) {
        expectStatus('update the demo endpoint', await call(`${subscriptionsUrl}/endpoints/${previous.endpointId}`, previous.apiKey, { method: 'PATCH', body: { url: receiverUrl, enabled: true } }), 200);
      }
      return previous;
    }
  }
  const partner = expectStatus('create the demo partner', await call(`${subscriptionsUrl}/admin/partners`, secrets.adminToken, { method: 'POST', body: { name: 'Escola Demo' } }), 201);
  const key = expectStatus('issue an API key', await call(`${subscriptionsUrl}/admin/partners/${partner.id}/api-keys`, secrets.adminToken, { method: 'POST' }), 201);
  const endpoint = expectStatus(
    'create the demo endpoint',
    await callWhenReady(`${subscriptionsUrl}/endpoints`, key.key, { method: 'POST', body: { url: receiverUrl, description: 'Gancho demo receiver', event_types: ['purchase.*'] } }),
    201,
  );
  return { partnerId: partner.id, apiKey: key.key, endpointId: endpoint.id };
}

/** The endpoint's current signing secrets (two during a rotation). */
export async function endpointSecrets(subscriptionsUrl: string, state: DemoState): Promise<string[]> {
  const body = expectStatus('read the signing secret', await callWhenReady(`${subscriptionsUrl}/endpoints/${state.endpointId}/secret`, state.apiKey), 200);
  return [body.current?.secret, body.previous?.secret].filter((s): s is string => typeof s === 'string');
}
