// A client certificate of its own for each step that acts as a user, signed by the lab's cluster CA: the
// apiserver then authenticates the step as that user (the audit event's user.username is the user, with
// no impersonation), and records the certificate's fingerprint as the event's credential id, which ties
// the step to exactly its events without adding anything an attacker's request would not carry.
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { PurpleError } from '../errors.js'

/** The key kube-apiserver (≥ 1.31) puts in user.extra for the credential that authenticated a request. */
export const CREDENTIAL_ID_EXTRA = 'authentication.kubernetes.io/credential-id'

export interface ClientCert {
  certPem: string
  keyPem: string
  /** `X509SHA256=<hex>`, as the apiserver writes it into user.extra[CREDENTIAL_ID_EXTRA]. */
  credentialId: string
}

/** The credential id the apiserver derives from a certificate: SHA-256 of its DER, lowercase hex. */
export function credentialIdOf(certPem: string): string {
  return `X509SHA256=${createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex')}`
}

/** An X.509 subject with one CN and one O per group, escaped for openssl's -subj. */
export function subjectFor(user: string, groups: readonly string[]): string {
  const esc = (v: string) => v.replace(/[\\/=+,]/g, (c) => `\\${c}`)
  return `/CN=${esc(user)}${groups.map((g) => `/O=${esc(g)}`).join('')}`
}

export async function mintClientCert(
  ca: { cert: string; key: string },
  user: string,
  groups: readonly string[],
  workDir: string,
): Promise<ClientCert> {
  const dir = await mkdtemp(path.join(workDir, 'cert-'))
  try {
    const key = path.join(dir, 'key.pem')
    const csr = path.join(dir, 'req.csr')
    const crt = path.join(dir, 'cert.pem')
    const ext = path.join(dir, 'ext.cnf')
    const ossl = async (args: string[]) => {
      const r = await execa('openssl', args, {
        reject: false,
        extendEnv: false,
        env: { PATH: process.env.PATH ?? '' },
      })
      if (r.exitCode !== 0)
        throw new PurpleError('PURPLE_LAB_FAILED', `openssl ${args[0]} failed: ${r.stderr.trim()}`)
    }
    await ossl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      subjectFor(user, groups),
      '-utf8',
    ])
    await writeFile(ext, 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n')
    await ossl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${createHash('sha256').update(`${user}${Date.now()}${Math.random()}`).digest('hex').slice(0, 16)}`,
      '-days',
      '1',
      '-out',
      crt,
      '-extfile',
      ext,
    ])
    const certPem = await readFile(crt, 'utf8')
    return { certPem, keyPem: await readFile(key, 'utf8'), credentialId: credentialIdOf(certPem) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
