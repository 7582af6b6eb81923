// A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI, so HTTPS decoys can
// be trusted by clients through a CA bundle file (REQUESTS_CA_BUNDLE) without touching system trust.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PurpleError } from '../../errors.js'

const run = promisify(execFile)

export interface TlsMaterial {
  readonly caFile: string
  readonly serverKey: Buffer
  readonly serverCert: Buffer
}

export async function makeTlsMaterial(dir: string): Promise<TlsMaterial> {
  const f = (name: string) => join(dir, name)
  writeFileSync(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n' +
      'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  )
  const steps: string[][] = [
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
      '-days',
      '7',
      '-subj',
      '/CN=purplekind decoy CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    ],
    [
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('server.pem'),
      '-days',
      '7',
      '-extfile',
      f('server.ext'),
    ],
  ]
  for (const args of steps) {
    try {
      await run('openssl', args)
    } catch (err) {
      throw new PurpleError(
        'PURPLE_LAB_FAILED',
        `openssl ${args[0]} failed: ${(err as { stderr?: string }).stderr ?? err}`,
      )
    }
  }
  return {
    caFile: f('ca.pem'),
    serverKey: readFileSync(f('server.key')),
    serverCert: readFileSync(f('server.pem')),
  }
}
