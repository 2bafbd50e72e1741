/**
 * How Gancho authenticates to an endpoint besides the signature. Secrets
 * appear only sealed (contexts `endpoint-auth:<id>:<part>`), each with the
 * hint the partner sees (`headerValueHint`: the last four characters, or null
 * for a short value). A new value replaces the whole authentication in one
 * event, so delivery switches from the old credential to the new one between
 * two requests: never a request without one.
 */
export type EndpointAuth =
  | { type: 'basic'; username: string; sealedPassword: string; passwordHint: string | null }
  | {
      type: 'oauth2_client_credentials';
      tokenUrl: string;
      clientId: string;
      sealedClientSecret: string;
      clientSecretHint: string | null;
      scope: string | null;
      audience: string | null;
    }
  | {
      type: 'mtls';
      /** PEM, public: what the API shows is read from it (subject, issuer, expiry, fingerprint). */
      certificate: string;
      sealedPrivateKey: string;
      certificateInfo: ClientCertificateInfo;
    };

/** What the partner sees of its client certificate. */
export interface ClientCertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprintSha256: string;
}

/** What is wrong with an endpoint's authentication next to its other settings (empty when nothing). */
export function endpointAuthProblems(auth: EndpointAuth | null, headerNames: readonly string[], destinationType: string, url: string, now: Date): string[] {
  if (auth === null) return [];
  const problems: string[] = [];
  if (destinationType !== 'webhook') problems.push('only a webhook endpoint takes an auth');
  if (auth.type !== 'mtls' && headerNames.some((name) => name.toLowerCase() === 'authorization')) {
    problems.push(`an endpoint with ${auth.type} auth sends its own Authorization header: remove the custom one`);
  }
  if (auth.type === 'mtls') {
    if (!url.startsWith('https://')) problems.push('a client certificate is only presented over https');
    if (Date.parse(auth.certificateInfo.validTo) <= now.getTime()) problems.push('the client certificate has expired');
  }
  if (auth.type === 'basic' && auth.username.includes(':')) problems.push('a Basic username cannot contain ":"');
  return problems;
}
