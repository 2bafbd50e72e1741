import type { JsonSchema } from './webhook-payload';

/**
 * How Gancho authenticates itself to an endpoint, on top of the Standard
 * Webhooks signature: HTTP Basic, an OAuth 2.0 client-credentials bearer
 * token, or a TLS client certificate (mutual TLS).
 */
export const endpointAuthTypes = ['basic', 'oauth2_client_credentials', 'mtls'] as const;
export type EndpointAuthType = (typeof endpointAuthTypes)[number];

/**
 * The authentication of an endpoint on `subscriptions.endpoints.v1`: every
 * secret sealed by `@gancho/secret-box` under `endpointAuthSecretContext(endpoint_id, part)`.
 * The username, client id, token URL and certificate are not secrets.
 */
export type EndpointAuthV1 =
  | { type: 'basic'; username: string; password_sealed: string }
  | { type: 'oauth2_client_credentials'; token_url: string; client_id: string; client_secret_sealed: string; scope: string | null; audience: string | null }
  | { type: 'mtls'; certificate: string; private_key_sealed: string };

/** The secret parts of an endpoint's authentication, each sealed under its own context. */
export type EndpointAuthSecretPart = 'password' | 'client_secret' | 'private_key';

/** The context a secret of an endpoint's authentication is sealed under, so a sealed value moved onto another endpoint or part does not open. */
export function endpointAuthSecretContext(endpointId: string, part: EndpointAuthSecretPart): string {
  return `endpoint-auth:${endpointId}:${part}`;
}

const sealed = (context: string): JsonSchema => ({ type: 'string', minLength: 1, description: `Sealed with the context \`endpoint-auth:<endpoint_id>:${context}\`.` });

/** The JSON Schema of `auth` in the endpoint state (absent or null: none). */
export function endpointAuthSchema(): JsonSchema {
  return {
    description: `How delivery authenticates to the endpoint besides the signature; absent or null for nothing more. A consumer that does not know \`type\` (one of ${endpointAuthTypes.join(', ')} in v1) must send nothing to the endpoint.`,
    oneOf: [
      { type: 'null' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'username', 'password_sealed'],
        properties: { type: { const: 'basic' }, username: { type: 'string', minLength: 1 }, password_sealed: sealed('password') },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'token_url', 'client_id', 'client_secret_sealed', 'scope', 'audience'],
        properties: {
          type: { const: 'oauth2_client_credentials' },
          token_url: { type: 'string', format: 'uri', description: 'Where delivery asks for tokens (grant_type=client_credentials, client_secret_basic); the same URL policy as the endpoint URL.' },
          client_id: { type: 'string', minLength: 1 },
          client_secret_sealed: sealed('client_secret'),
          scope: { oneOf: [{ type: 'string' }, { type: 'null' }] },
          audience: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'certificate', 'private_key_sealed'],
        properties: {
          type: { const: 'mtls' },
          certificate: { type: 'string', minLength: 1, description: 'The client certificate (PEM, with its chain), not a secret.' },
          private_key_sealed: sealed('private_key'),
        },
      },
    ],
  };
}
