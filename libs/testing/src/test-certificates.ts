import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCertificates {
  /** A certificate authority the tests trust (the sender's `ca`). */
  ca: string;
  /** Issued by `ca` for 127.0.0.1 and localhost. */
  valid: KeyPair;
  /** Issued by `ca`, for other.example only. */
  wrongName: KeyPair;
  /** Issued by `ca` for 127.0.0.1, valid until before it was issued. */
  expired: KeyPair;
  /** Signed by its own key, for 127.0.0.1. */
  selfSigned: KeyPair;
  /** A client certificate (TLS client authentication) issued by `ca`: what an mTLS receiver that trusts `ca` accepts. */
  client: KeyPair;
  /** A client certificate issued by another CA: an mTLS receiver that trusts `ca` refuses it. */
  foreignClient: KeyPair;
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Generates the certificates with the `openssl` command (Node cannot issue
 * X.509 certificates by itself) into a temporary folder, removed afterwards.
 */
export function generateTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'webhook-sender-tls-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const read = (name: string) => readFileSync(file(name), 'utf8');
  try {
    openssl('req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=Gancho test CA');
    openssl('req', '-x509', ...ecKey, '-keyout', file('other-ca.key'), '-out', file('other-ca.crt'), '-days', '2', '-subj', '/CN=Another CA');
    const issue = (name: string, extension: string, days: string, ca = 'ca'): KeyPair => {
      writeFileSync(file(`${name}.ext`), `${extension}\n`);
      openssl('req', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
      // A negative -days makes notAfter earlier than notBefore: expired from the start.
      openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-days', days, '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
      return { key: read(`${name}.key`), cert: read(`${name}.crt`) };
    };
    const valid = issue('valid', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '2');
    const wrongName = issue('wrong-name', 'subjectAltName=DNS:other.example', '2');
    const expired = issue('expired', 'subjectAltName=IP:127.0.0.1', '-1');
    const client = issue('gancho-client', 'extendedKeyUsage=clientAuth', '2');
    const foreignClient = issue('foreign-client', 'extendedKeyUsage=clientAuth', '2', 'other-ca');
    openssl('req', '-x509', ...ecKey, '-keyout', file('self.key'), '-out', file('self.crt'), '-days', '2', '-subj', '/CN=self-signed', '-addext', 'subjectAltName=IP:127.0.0.1');
    return { ca: read('ca.crt'), valid, wrongName, expired, selfSigned: { key: read('self.key'), cert: read('self.crt') }, client, foreignClient };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
