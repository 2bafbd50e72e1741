import { createHash } from 'node:crypto';
import { endpointAuthSecretContext, type EndpointStateV1 } from '@gancho/contracts';
import type { ClientCertificate, ClientCredentials } from '@gancho/webhook-sender';

/**
 * An endpoint's authentication as delivery uses it, secrets opened (never
 * logged): the Basic header made once per state, the OAuth client
 * credentials (tokens come from `ClientCredentialsTokens`), or the client
 * certificate with an id that changes when it does.
 */
export type RoutedAuth = { type: 'basic'; authorization: string } | { type: 'oauth2_client_credentials'; credentials: ClientCredentials } | { type: 'mtls'; certificate: ClientCertificate };

/** The state's auth opened with `open(sealed, context)`, or undefined for none; throws if a sealed value does not open. */
export function openEndpointAuth(state: Pick<EndpointStateV1, 'endpoint_id' | 'auth'>, open: (sealed: string, context: string) => string): RoutedAuth | undefined {
  const auth = state.auth;
  if (auth === undefined || auth === null) return undefined;
  const id = state.endpoint_id;
  switch (auth.type) {
    case 'basic': {
      const password = open(auth.password_sealed, endpointAuthSecretContext(id, 'password'));
      return { type: 'basic', authorization: `Basic ${Buffer.from(`${auth.username}:${password}`, 'utf8').toString('base64')}` };
    }
    case 'oauth2_client_credentials':
      return {
        type: 'oauth2_client_credentials',
        credentials: { tokenUrl: auth.token_url, clientId: auth.client_id, clientSecret: open(auth.client_secret_sealed, endpointAuthSecretContext(id, 'client_secret')), scope: auth.scope, audience: auth.audience },
      };
    case 'mtls': {
      const key = open(auth.private_key_sealed, endpointAuthSecretContext(id, 'private_key'));
      // Names the pair, not shown anywhere: a new certificate or key means connections of its own.
      const certificateId = createHash('sha256').update(auth.certificate).update('\n').update(key).digest('hex').slice(0, 32);
      return { type: 'mtls', certificate: { id: certificateId, cert: auth.certificate, key } };
    }
    default: {
      const _: never = auth;
      return _;
    }
  }
}
