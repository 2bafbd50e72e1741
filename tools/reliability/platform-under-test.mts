// The three services as processes on one database (PostgreSQL event log), with
// a partner, its API key and an endpoint: what the API-level suites share.
/* eslint-disable @nx/enforce-module-boundaries -- the platform scripts of tools/, as the bench uses them */
import { newPlatformSecrets, startPlatform, type Platform, type PlatformSecrets } from '../platform/platform.mts';
import { freePort } from '../infra/ports.mts';

export interface PlatformUnderTest {
  urls: Platform['urls'];
  secrets: PlatformSecrets;
  partnerId: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startPlatformOnDatabase(databaseUrl: string): Promise<PlatformUnderTest> {
  const secrets = newPlatformSecrets();
  const platform = await startPlatform({
    databaseUrl,
    ports: { journey: await freePort(), subscriptions: await freePort(), delivery: await freePort() },
    secrets,
    allowedEndpointHosts: [],
    // Generated requests come fast; the rate limit has its own tests.
    env: { PARTNER_API_RATE_LIMIT_PER_SECOND: '100000', PARTNER_API_RATE_LIMIT_BURST: '100000', ENDPOINTS_WARMUP_MS: '500' },
  });
  try {
    const admin = async (path: string, body?: unknown) => {
      const response = await fetch(`${platform.urls.subscriptions}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secrets.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const partner = await admin('/admin/partners', { name: 'Escola Hostil' });
    const apiKey = (await admin(`/admin/partners/${partner.id as string}/api-keys`)).key as string;
    return { urls: platform.urls, secrets, partnerId: partner.id as string, apiKey, stop: () => platform.stop() };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}
