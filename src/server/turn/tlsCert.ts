/**
 * The certificate of coturn's TLS listener when the config gives none: a self-signed one made at start
 * (npm `selfsigned`: X.509 from Node without an openssl child), for development only. Chromium checks a
 * TURN server's certificate like an HTTPS one (a self-signed one fails the allocation with error 701), so
 * the log names its SPKI hash: `--ignore-certificate-errors-spki-list=<hash>` makes one browser accept it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { generate } from 'selfsigned';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** base64(sha256(SubjectPublicKeyInfo)): what `--ignore-certificate-errors-spki-list` takes. */
export function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** A self-signed EC certificate for `names` (host names and IPs), valid for a year. */
export async function selfSignedCert(names: readonly string[]): Promise<TlsFiles> {
  const all = [...new Set([...names, 'localhost', '127.0.0.1', hostname()])].filter(Boolean);
  const pems = await generate([{ name: 'commonName', value: all[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: all.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
