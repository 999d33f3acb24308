/**
 * A certificate authority made for one test run (openssl, as the local cluster's own
 * certificates are), and a wildcard certificate it signs: what an operator's TLS Secret holds.
 * Clients in the tests trust only this CA, so an answer proves the right certificate was served.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TestCertificates {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function wildcardCertificate(domain: string): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'tycho-test-ca-'));
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args);
  const f = (name: string) => join(dir, name);
  try {
    await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Tycho test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=*.${domain}`, '-keyout', f('tls.key'), '-out', f('tls.csr'));
    await writeFile(f('ext'), `subjectAltName=DNS:*.${domain}\nextendedKeyUsage=serverAuth\n`);
    await openssl('x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext'), '-out', f('tls.crt'));
    return { ca: await readFile(f('ca.crt')), cert: await readFile(f('tls.crt')), key: await readFile(f('tls.key')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The simulated ingress controller's host:port (global-setup.ts). */
export function ingressAddress(): { host: string; port: number } {
  const a = process.env.TYCHO_TEST_INGRESS_ADDRESS;
  if (!a) throw new Error('TYCHO_TEST_INGRESS_ADDRESS is unset: these tests need the local cluster\'s simulated ingress controller.');
  const [host, port] = a.split(':') as [string, string];
  return { host, port: Number(port) };
}

/**
 * GET an https:// URL as a browser whose DNS points the host at the ingress controller would:
 * the URL's host in Host and SNI, the certificate checked against `ca`. 'unverified' is only for
 * hosts no Ingress names, which get the controller's default certificate (as with ingress-nginx).
 */
export function fetchThroughIngress(url: string, ca: Buffer | 'unverified'): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const via = ingressAddress();
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname: via.host, port: via.port, path: u.pathname, servername: u.hostname, headers: { host: u.host }, ...(ca === 'unverified' ? { rejectUnauthorized: false } : { ca }), agent: false, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}
