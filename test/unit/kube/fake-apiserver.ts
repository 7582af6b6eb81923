// A FAKE apiserver for unit tests of code that talks to one (sweep, the existing-cluster preflight, the
// identity each action presents): a loopback HTTPS server with real TLS (the local lab's PKI) that records
// every request, with the credential it presented, and answers what the test's `answer` says. The real
// apiserver is exercised by the live suites (test/live).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { makePki } from '../../../src/lab/local/pki.js'

export interface Recorded {
  method: string
  url: string
  auditID: string | undefined
  userAgent: string | undefined
  body: unknown
  /** The credential presented: the client certificate's CN, the Authorization and Impersonate-User headers. */
  clientCN?: string
  authorization?: string
  impersonate?: string
}

export interface FakeApiserver {
  seen: Recorded[]
  /** The PKI (makePki): ca.crt and ca.key sign client certificates this server accepts. */
  dir: string
  /** A kubeconfig (admin client certificate) with one context of this name. */
  kubeconfig(context: string): Promise<string>
  close(): Promise<void>
}

export async function startFakeApiserver(
  answer: (req: Recorded) => { status: number; body?: unknown },
): Promise<FakeApiserver> {
  const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-fake-apiserver-'))
  await makePki(dir)
  const pem = (f: string) => readFile(path.join(dir, f), 'utf8')
  const seen: Recorded[] = []
  const server = createServer(
    {
      key: await pem('apiserver.key'),
      cert: await pem('apiserver.crt'),
      ca: await pem('ca.crt'),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const peer = (req.socket as TLSSocket).getPeerCertificate()
        const cn = peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : undefined
        const rec: Recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          auditID: req.headers['audit-id'] as string | undefined,
          userAgent: req.headers['user-agent'],
          body: text ? JSON.parse(text) : undefined,
          ...(cn ? { clientCN: cn } : {}),
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(req.headers['impersonate-user']
            ? { impersonate: String(req.headers['impersonate-user']) }
            : {}),
        }
        seen.push(rec)
        const { status, body } = answer(rec)
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body ?? { kind: 'Status', message: `HTTP ${status}` }))
      })
    },
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  const b64 = async (f: string) => Buffer.from(await pem(f)).toString('base64')
  return {
    seen,
    dir,
    async kubeconfig(context) {
      return writeKubeconfig(path.join(dir, `${context}.kubeconfig`), {
        server: `https://127.0.0.1:${port}`,
        ca: { data: await b64('ca.crt') },
        user: {
          'client-certificate-data': await b64('admin.crt'),
          'client-key-data': await b64('admin.key'),
        },
        context,
      })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Writes a kubeconfig with one cluster, one user and one context (also the current one); returns `file`. */
export async function writeKubeconfig(
  file: string,
  o: {
    server: string
    /** The cluster CA inline, as a file, or no verification of the server's certificate at all. */
    ca: { data: string } | { file: string } | 'insecure'
    user: Record<string, string>
    context: string
  },
): Promise<string> {
  const ca =
    o.ca === 'insecure'
      ? { 'insecure-skip-tls-verify': true }
      : 'data' in o.ca
        ? { 'certificate-authority-data': o.ca.data }
        : { 'certificate-authority': o.ca.file }
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: o.server, ...ca } }],
      users: [{ name: 'u', user: o.user }],
      contexts: [{ name: o.context, context: { cluster: 'c', user: 'u' } }],
      'current-context': o.context,
    }),
  )
  return file
}
