/**
 * A certificate authority made for one test run (openssl, as the local cluster's own
 * certificates are), and a wildcard certificate it signs: what an operator's TLS Secret holds.
 * Clients in the tests (open-url.ts) trust only this CA, so an answer proves the right certificate was served.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
