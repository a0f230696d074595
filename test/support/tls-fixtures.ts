/**
 * Self-signed certificates for tests, generated at test time with the `openssl` command line so no
 * key material lives in the repository.
 */
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A key and a self-signed certificate for `localhost` and `127.0.0.1`. */
export interface SelfSignedCertificate {
  /** PEM private key. */
  key: string
  /** PEM certificate, usable as its own CA. */
  cert: string
  /** The certificate's notAfter, seconds since the Unix epoch. */
  notAfterSeconds: number
}

/** Generates a fresh EC key and certificate valid for `days` (default 30) with openssl. */
export async function createSelfSignedCertificate (options: { commonName?: string, days?: number } = {}): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-tls-'))
  try {
    const keyPath = join(dir, 'key.pem')
    const certPath = join(dir, 'cert.pem')
    await run('openssl', [
      'req', '-x509', '-nodes',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-keyout', keyPath, '-out', certPath,
      '-days', String(options.days ?? 30),
      '-subj', `/CN=${options.commonName ?? 'localhost'}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'
    ])
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')])
    const notAfterSeconds = Date.parse(new X509Certificate(cert).validTo) / 1000
    return { key, cert, notAfterSeconds }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
