// Throw-away PKI for one lab, made with the openssl CLI: one CA signs every serving and client cert.
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'

const DAYS = '30'
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

export interface CertSpec {
  /** File stem: <name>.crt / <name>.key. */
  readonly name: string
  readonly subject: string
  readonly usage: 'serverAuth' | 'clientAuth'
  readonly sans?: readonly string[]
}

const LOOPBACK_SANS = ['DNS:localhost', 'IP:127.0.0.1']

/** Every certificate the local lab needs (client identities chosen so audit `user` fields tell them apart). */
export const LAB_CERTS: readonly CertSpec[] = [
  {
    name: 'apiserver',
    subject: '/CN=kube-apiserver',
    usage: 'serverAuth',
    sans: [...LOOPBACK_SANS, 'DNS:kubernetes', 'DNS:kubernetes.default.svc', 'IP:10.0.0.1'],
  },
  { name: 'admin', subject: '/O=system:masters/CN=purplekind-admin', usage: 'clientAuth' },
  { name: 'kcm', subject: '/CN=system:kube-controller-manager', usage: 'clientAuth' },
  { name: 'kwok-client', subject: '/O=system:masters/CN=purplekind-kwok', usage: 'clientAuth' },
  { name: 'kwok', subject: '/CN=localhost', usage: 'serverAuth', sans: LOOPBACK_SANS },
  {
    name: 'audit-receiver',
    subject: '/CN=purplekind-audit-receiver',
    usage: 'serverAuth',
    sans: LOOPBACK_SANS,
  },
]

/** openssl x509 extension text for a leaf certificate. */
export function extensionsFor(spec: CertSpec): string {
  const lines = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment']
  lines.push(`extendedKeyUsage=${spec.usage}`)
  if (spec.sans?.length) lines.push(`subjectAltName=${spec.sans.join(',')}`)
  return `${lines.join('\n')}\n`
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await execa('openssl', args, { cwd, reject: false })
  if (r.exitCode !== 0) {
    throw new PurpleError('PURPLE_LAB_FAILED', `openssl ${args[0]} failed: ${r.stderr.trim()}`, {
      hint: 'the local lab needs the openssl CLI (apt-get install openssl)',
    })
  }
}

async function leaf(dir: string, spec: CertSpec): Promise<void> {
  const { name } = spec
  await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', spec.subject], dir)
  await writeFile(join(dir, `${name}.ext`), extensionsFor(spec))
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-days',
      DAYS,
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]),
    dir,
  )
}

/** Creates ca.*, every LAB_CERTS pair and the service-account key pair (sa.key/sa.pub) in `dir`. */
export async function makePki(dir: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-days',
      DAYS,
      '-subj',
      '/CN=purplekind-lab-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ],
    dir,
  )
  // One at a time: every signing rewrites the shared ca.srl serial file.
  for (const spec of LAB_CERTS) await leaf(dir, spec)
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir)
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir)
  for (const key of ['ca', ...LAB_CERTS.map((c) => c.name), 'sa']) await chmod(join(dir, `${key}.key`), 0o600)
}
