import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { endpointAuthSecretContext, type EndpointAuthV1 } from '@gancho/contracts';
import type { SecretBox } from '@gancho/secret-box';
import { WHEN_APPENDED, type SqlPart } from '@gancho/event-store';
import { ProblemError } from '@gancho/service-kit';
import { headerValueHint, maxUrlLength, type ClientCertificateInfo, type EndpointAuth } from '@gancho/subscriptions-domain';

// ---------------------------------------------------------------- request

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x20-\x7e]+$/, 'printable ASCII');
const pem = (what: string) => z.string().min(1).max(32_768).describe(`${what} in PEM.`);

const basicAuth = z
  .strictObject({
    type: z.literal('basic'),
    username: printable(256).regex(/^[^:]*$/, 'must not contain ":"'),
    password: printable(1024).describe('Stored and published encrypted; answered only as `password_last4` (null for fewer than 12 characters).'),
  })
  .describe('HTTP Basic (RFC 7617): every request carries `Authorization: Basic base64(username:password)`.');

const oauthAuth = z
  .strictObject({
    type: z.literal('oauth2_client_credentials'),
    token_url: z.string().min(1).max(maxUrlLength).describe('The token endpoint; the same URL policy as the endpoint URL (https on the public internet).'),
    client_id: printable(512),
    client_secret: printable(2048).describe('Stored and published encrypted; answered only as `client_secret_last4`.'),
    scope: printable(1024).nullable().default(null).describe('Sent as `scope`; null for none.'),
    audience: printable(1024).nullable().default(null).describe('Sent as `audience` (Auth0 and others); null for none.'),
  })
  .describe(
    'OAuth 2.0 client credentials (RFC 6749 §4.4): delivery POSTs `grant_type=client_credentials` to token_url with the client id and secret in HTTP Basic, caches the token until shortly before `expires_in` ends (5 minutes when the answer has none), and sends `Authorization: Bearer <token>`. A 401 from the endpoint drops the cached token. A token endpoint that fails gives the attempt error class `auth_token`.',
  );

const mtlsAuth = z
  .strictObject({
    type: z.literal('mtls'),
    certificate: pem('The client certificate (then its intermediates, if any)'),
    private_key: pem('Its private key (unencrypted PKCS#8, PKCS#1 or SEC1)').describe('Its private key in PEM. Stored and published encrypted; never answered.'),
  })
  .describe('Mutual TLS: delivery presents this client certificate on every connection to the endpoint (https only). Refused when the key does not match the certificate or the certificate is expired.');

/** `auth` of a create or update body: one of the three; on update, a new value replaces the whole auth (null removes it). */
export const endpointAuthBody = z
  .discriminatedUnion('type', [basicAuth, oauthAuth, mtlsAuth])
  .describe(
    'How Gancho authenticates to your endpoint besides the signature. Rotating a credential: PATCH the new auth whole; it replaces the old one in one change, so every request carries the old or the new one, never none.',
  );
export type EndpointAuthBody = z.infer<typeof endpointAuthBody>;

// ---------------------------------------------------------------- sealing

function invalid(path: string, message: string): ProblemError {
  return new ProblemError('VALIDATION_FAILED', 'The request body is invalid.', { errors: [{ path: `auth.${path}`, message }] });
}

/** What the API shows of a certificate; refuses an expired one, and a key that does not belong to it (the key itself never echoed). */
export function checkClientCertificate(certificatePem: string, privateKeyPem: string, now: Date): ClientCertificateInfo {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw invalid('certificate', 'not a PEM X.509 certificate');
  }
  let key;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    throw invalid('private_key', 'not an unencrypted PEM private key');
  }
  if (!certificate.checkPrivateKey(key)) throw invalid('private_key', 'does not belong to the certificate');
  if (Date.parse(certificate.validTo) <= now.getTime()) throw invalid('certificate', `expired on ${new Date(certificate.validTo).toISOString()}`);
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    validFrom: new Date(certificate.validFrom).toISOString(),
    validTo: new Date(certificate.validTo).toISOString(),
    fingerprintSha256: certificate.fingerprint256,
  };
}

/**
 * The auth to record, its secrets sealed under the endpoint's contexts. The
 * token URL must already have passed the URL policy (`acceptTokenUrl`).
 */
export function sealEndpointAuth(box: SecretBox, endpointId: string, body: EndpointAuthBody, now: Date): EndpointAuth {
  switch (body.type) {
    case 'basic':
      return { type: 'basic', username: body.username, sealedPassword: box.seal(body.password, endpointAuthSecretContext(endpointId, 'password')), passwordHint: headerValueHint(body.password) };
    case 'oauth2_client_credentials':
      return {
        type: 'oauth2_client_credentials',
        tokenUrl: body.token_url,
        clientId: body.client_id,
        sealedClientSecret: box.seal(body.client_secret, endpointAuthSecretContext(endpointId, 'client_secret')),
        clientSecretHint: headerValueHint(body.client_secret),
        scope: body.scope,
        audience: body.audience,
      };
    case 'mtls':
      return {
        type: 'mtls',
        certificate: body.certificate.trim(),
        sealedPrivateKey: box.seal(body.private_key, endpointAuthSecretContext(endpointId, 'private_key')),
        certificateInfo: checkClientCertificate(body.certificate, body.private_key, now),
      };
    default: {
      const _: never = body;
      return _;
    }
  }
}

// ---------------------------------------------------------------- views

/** The auth as the partner API shows it: never a secret, only the last four characters of a long one. */
export type EndpointAuthView =
  | { type: 'basic'; username: string; password_last4: string | null }
  | { type: 'oauth2_client_credentials'; token_url: string; client_id: string; client_secret_last4: string | null; scope: string | null; audience: string | null }
  | { type: 'mtls'; certificate: { subject: string; issuer: string; valid_from: string; valid_to: string; fingerprint_sha256: string } };

export function endpointAuthView(auth: EndpointAuth | null | undefined): EndpointAuthView | null {
  if (auth === null || auth === undefined) return null;
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username, password_last4: auth.passwordHint };
    case 'oauth2_client_credentials':
      return { type: 'oauth2_client_credentials', token_url: auth.tokenUrl, client_id: auth.clientId, client_secret_last4: auth.clientSecretHint, scope: auth.scope, audience: auth.audience };
    case 'mtls': {
      const info = auth.certificateInfo;
      return { type: 'mtls', certificate: { subject: info.subject, issuer: info.issuer, valid_from: info.validFrom, valid_to: info.validTo, fingerprint_sha256: info.fingerprintSha256 } };
    }
    default: {
      const _: never = auth;
      return _;
    }
  }
}

/** The auth on `subscriptions.endpoints.v1`: secrets sealed. */
export function endpointAuthStateV1(auth: EndpointAuth | null | undefined): EndpointAuthV1 | null {
  if (auth === null || auth === undefined) return null;
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username, password_sealed: auth.sealedPassword };
    case 'oauth2_client_credentials':
      return { type: 'oauth2_client_credentials', token_url: auth.tokenUrl, client_id: auth.clientId, client_secret_sealed: auth.sealedClientSecret, scope: auth.scope, audience: auth.audience };
    case 'mtls':
      return { type: 'mtls', certificate: auth.certificate, private_key_sealed: auth.sealedPrivateKey };
    default: {
      const _: never = auth;
      return _;
    }
  }
}

/** The answer's schema of `auth`, for the OpenAPI document. */
export const endpointAuthResponse = z
  .union([
    z.looseObject({ type: z.literal('basic'), username: z.string(), password_last4: z.string().nullable() }),
    z.looseObject({
      type: z.literal('oauth2_client_credentials'),
      token_url: z.string(),
      client_id: z.string(),
      client_secret_last4: z.string().nullable(),
      scope: z.string().nullable(),
      audience: z.string().nullable(),
    }),
    z.looseObject({
      type: z.literal('mtls'),
      certificate: z.looseObject({ subject: z.string(), issuer: z.string(), valid_from: z.string(), valid_to: z.string(), fingerprint_sha256: z.string() }),
    }),
  ])
  .nullable()
  .describe('Authentication besides the signature; secrets never shown (last four characters of a long one, or null). null: none.');

/** The auth's row of the read model (`endpoint_auth`), written or removed in the append's statement. */
export function endpointAuthRow(endpointId: string, auth: EndpointAuth | null | undefined, version: number, deleted: boolean): SqlPart {
  const view = deleted ? null : endpointAuthView(auth);
  if (view === null) return { sql: `DELETE FROM endpoint_auth WHERE endpoint_id = $1 AND ${WHEN_APPENDED}`, parameters: [endpointId] };
  return {
    sql: `INSERT INTO endpoint_auth (endpoint_id, auth, version) SELECT $1, $2::jsonb, $3::int WHERE ${WHEN_APPENDED}
          ON CONFLICT (endpoint_id) DO UPDATE SET auth = EXCLUDED.auth, version = EXCLUDED.version WHERE endpoint_auth.version < EXCLUDED.version`,
    parameters: [endpointId, JSON.stringify(view), version],
  };
}
